package resolver

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/rogpeppe/go-internal/txtar"
)

// TestScenarios runs the resolver scenarios in testdata/scenarios/*.txtar
// on the fake network (STYLE.md rule 12). A scenario is a txtar archive:
//
//	# What it shows (the comment).
//	-- zone 127.53.1.1 test. --
//	(master file: the zone served from that address)
//	-- queries --
//	NAME TYPE RCODE [ede=N] [max-sends=N] [RR | RR ...]
//
// Each "zone ADDR ORIGIN" file is served by an authoritative server at
// ADDR; several zones may share an address. Addresses that serve nothing
// are black holes. Unless the scenario serves the root itself, the root at
// 127.53.0.1 delegates test. to ns.test. at 127.53.1.1. Queries run in
// order on one resolver, so later ones see the cache. RRs are "TYPE
// RDATA" as in ../interop/testdata/corpus.txt, compared as a set; ede=N
// wants that Extended DNS Error code; max-sends=N bounds the upstream
// queries the line may cause.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			runScenario(t, file)
		})
	}
}

func runScenario(t *testing.T, file string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeNet()
	zones := map[string][]string{} // address -> origin, text pairs
	var queries string
	for _, fl := range ar.Files {
		fields := strings.Fields(fl.Name)
		switch {
		case len(fields) == 3 && fields[0] == "zone":
			zones[fields[1]] = append(zones[fields[1]], fields[2], string(fl.Data))
		case fl.Name == "queries":
			queries = string(fl.Data)
		default:
			t.Fatalf("%s: unknown section %q", file, fl.Name)
		}
	}
	if !slices.ContainsFunc(slices.Collect(mapValues(zones)), func(z []string) bool { return slices.Contains(z, ".") }) {
		zones["127.53.0.1"] = append(zones["127.53.0.1"], ".", rootZone)
	}
	for addr, z := range zones {
		f.zones(t, addr, z...)
	}
	r := newFakeResolver(t, f, Config{})
	for n, line := range strings.Split(queries, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := checkScenarioLine(r, f, line); err != nil {
			t.Errorf("%s: queries line %d: %s: %v", filepath.Base(file), n+1, line, err)
		}
	}
}

// checkScenarioLine asks one query line's question and checks the reply.
func checkScenarioLine(r *Resolver, f *fakeNet, line string) error {
	fields := strings.Fields(line)
	if len(fields) < 3 {
		return fmt.Errorf("want NAME TYPE RCODE [ede=N] [max-sends=N] [RR | ...]")
	}
	qtype, ok1 := dns.StringToType[fields[1]]
	rcode, ok2 := dns.StringToRcode[fields[2]]
	if !ok1 || !ok2 {
		return fmt.Errorf("bad type or rcode")
	}
	wantEDE, maxSends := -1, -1
	rest := fields[3:]
	for len(rest) > 0 {
		k, v, ok := strings.Cut(rest[0], "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || (k != "ede" && k != "max-sends") {
			break
		}
		if k == "ede" {
			wantEDE = n
		} else {
			maxSends = n
		}
		rest = rest[1:]
	}
	c := corpusCase{name: dns.Fqdn(fields[0]), qtype: qtype, rcode: rcode}
	if s := strings.Join(rest, " "); s != "" {
		for _, rr := range strings.Split(s, " | ") {
			parsed, err := dns.NewRR("scenario. 0 IN " + rr)
			if err != nil || parsed == nil {
				return fmt.Errorf("record %q: %v", rr, err)
			}
			c.answer = append(c.answer, normRdata(parsed))
		}
	}
	before := len(f.queries())
	reply := ask(r, c.name, qtype)
	if err := c.check(reply); err != nil {
		return err
	}
	if sends := len(f.queries()) - before; maxSends >= 0 && sends > maxSends {
		return fmt.Errorf("%d upstream queries, want at most %d", sends, maxSends)
	}
	if wantEDE >= 0 {
		e := ede(reply)
		if e == nil || int(e.InfoCode) != wantEDE {
			return fmt.Errorf("EDE %v, want %d", e, wantEDE)
		}
	}
	return nil
}

func mapValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}
