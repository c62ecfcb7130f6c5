package caa_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rensa-dns/rensa/internal/audit/caa"
)

// conformance is ../shared/conformance relative to the repository root.
var conformance = filepath.Join("..", "..", "..", "..", "shared", "conformance")

// readConformance reads one conformance file, or skips the test when the
// shared folder is absent.
func readConformance(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(conformance, rel))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("conformance data %s not present: %v", rel, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// boulderCases is caa/boulder-caa-cases.json: Let's Encrypt's CAA test
// tables extracted as data.
type boulderCases struct {
	Context struct {
		Issuer      string `json:"ca_issuer_domain"`
		Method      string `json:"validation_method"`
		AccountURI  string `json:"account_uri"`
		AccountURIs []string
	} `json:"_context"`
	MockDNS map[string]struct {
		Records []struct {
			Flag  uint8  `json:"flag"`
			Tag   string `json:"tag"`
			Value string `json:"value"`
		} `json:"records"`
		Lookup string `json:"lookup"`
	} `json:"mock_dns"`
	Checks []struct {
		Name    string `json:"name"`
		Request string `json:"request"`
		FoundAt string `json:"found_at"`
		Valid   bool   `json:"valid"`
	} `json:"checks"`
	FilterRecords []struct {
		Name    string         `json:"name"`
		Records []caa.Property `json:"records"`
		Issue   []string       `json:"issue_values"`
		Wild    []string       `json:"issuewild_values"`
		Crit    bool           `json:"critical_unknown"`
	} `json:"filter_records"`
	ParseIssueValue []struct {
		Name   string  `json:"name"`
		Value  string  `json:"value"`
		Domain *string `json:"want_domain"`
		Params []struct {
			Tag string `json:"tag"`
			Val string `json:"val"`
		} `json:"want_parameters"`
		Valid bool `json:"valid"`
	} `json:"parse_issue_value"`
}

// rfcDeviations are the boulder cases where Let's Encrypt is stricter
// than RFC 8659, with the RFC's answer: flag value 1 is a reserved bit,
// not the critical flag (section 4.1), and parameter tags may contain
// inner hyphens (section 4.2 ABNF).
var rfcDeviations = map[string]bool{
	"unrecognized improper critical":      false, // critical_unknown per RFC
	"unrecognized very improper critical": false,
	"hyphens in param tags are invalid":   true, // valid per RFC
}

func loadBoulder(t *testing.T) boulderCases {
	var bc boulderCases
	if err := json.Unmarshal(readConformance(t, "caa/boulder-caa-cases.json"), &bc); err != nil {
		t.Fatal(err)
	}
	return bc
}

// rfcCase is one line of rfc-vectors/caa-rfc8659-cases.tsv.
type rfcCase struct {
	line     int
	request  string
	ca       string
	rrsets   map[string][]caa.Property // owner -> RRset
	relevant string                    // "" for none
	allowed  bool
	ref      string
}

var tsvRecord = regexp.MustCompile(`(\S+):(\d+) (\S+) "([^"]*)"`)

func loadRFCCases(t *testing.T) []rfcCase {
	b := readConformance(t, "rfc-vectors/caa-rfc8659-cases.tsv")
	var out []rfcCase
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			t.Fatalf("tsv line %d: %d fields", n, len(f))
		}
		c := rfcCase{line: n, request: f[0], ca: f[1], rrsets: map[string][]caa.Property{}, allowed: strings.HasPrefix(f[4], "yes"), ref: f[5]}
		if f[3] != "(none)" {
			c.relevant = f[3]
		}
		if f[2] != "(none)" {
			ms := tsvRecord.FindAllStringSubmatch(f[2], -1)
			if len(ms) == 0 {
				t.Fatalf("tsv line %d: no records in %q", n, f[2])
			}
			for _, m := range ms {
				var flag uint8
				fmt.Sscan(m[2], &flag)
				c.rrsets[m[1]] = append(c.rrsets[m[1]], caa.Property{Flag: flag, Tag: m[3], Value: m[4]})
			}
		}
		out = append(out, c)
	}
	return out
}

// TestCAARFC8659Decide runs every RFC 8659 case through Decide on the
// relevant RRset the case names.
func TestCAARFC8659Decide(t *testing.T) {
	t.Parallel()
	for _, c := range loadRFCCases(t) {
		d := caa.Decide(c.rrsets[c.relevant], caa.Request{Name: c.request, Issuer: c.ca})
		if d.Allowed != c.allowed {
			t.Errorf("line %d: %s by %s: allowed=%v, want %v (%s): %s", c.line, c.request, c.ca, d.Allowed, c.allowed, c.ref, d.Reason)
		}
	}
}

// TestCAABoulderFilterRecords checks the critical-unknown classification
// of boulder's filter table, following the RFC where boulder is stricter.
func TestCAABoulderFilterRecords(t *testing.T) {
	t.Parallel()
	for _, c := range loadBoulder(t).FilterRecords {
		want := c.Crit
		if v, ok := rfcDeviations[c.Name]; ok {
			want = v
		}
		got := false
		for _, p := range c.Records {
			if p.Critical() && !p.Known() {
				got = true
			}
		}
		if got != want {
			t.Errorf("%s: critical unknown = %v, want %v", c.Name, got, want)
		}
		d := caa.Decide(c.Records, caa.Request{Name: "example.com", Issuer: "a"})
		if want && d.Allowed {
			t.Errorf("%s: allowed despite an unknown critical property", c.Name)
		}
	}
}

// TestCAABoulderParseIssueValue runs boulder's issue-value parser table.
func TestCAABoulderParseIssueValue(t *testing.T) {
	t.Parallel()
	for _, c := range loadBoulder(t).ParseIssueValue {
		want := c.Valid
		if v, ok := rfcDeviations[c.Name]; ok {
			want = v
		}
		v, err := caa.ParseIssueValue(c.Value)
		if (err == nil) != want {
			t.Errorf("%s: ParseIssueValue(%q) error %v, want valid=%v", c.Name, c.Value, err, want)
			continue
		}
		if err != nil || !c.Valid {
			continue
		}
		if c.Domain != nil && v.Domain != *c.Domain {
			t.Errorf("%s: domain %q, want %q", c.Name, v.Domain, *c.Domain)
		}
		var wantParams []caa.Parameter
		for _, p := range c.Params {
			wantParams = append(wantParams, caa.Parameter{Tag: p.Tag, Value: p.Val})
		}
		if fmt.Sprint(v.Parameters) != fmt.Sprint(wantParams) {
			t.Errorf("%s: parameters %v, want %v", c.Name, v.Parameters, wantParams)
		}
	}
}

// conformanceResolver serves every boulder mock RRset (under com.) and
// every RFC case (each under its own rowN.rfc. suffix, since cases reuse
// owners with different RRsets) from one testbed, with boulder's
// failing lookups as lame delegations, plus CNAME cases, and returns the
// address of rensa's resolver over it.
func conformanceResolver(t *testing.T, bc boulderCases, rfc []rfcCase) string {
	var lines, lame []string
	for name, mock := range bc.MockDNS {
		if strings.HasPrefix(mock.Lookup, "error:") {
			if strings.Contains(name, ".") {
				lame = append(lame, name+".")
			}
			continue
		}
		for _, r := range mock.Records {
			lines = append(lines, caaLine(name, caa.Property{Flag: r.Flag, Tag: r.Tag, Value: r.Value}))
		}
	}
	for _, c := range rfc {
		for owner, set := range c.rrsets {
			for _, p := range set {
				lines = append(lines, caaLine(rowName(c, owner), p))
			}
		}
	}
	lines = append(lines,
		"cname-present.com. 300 CNAME reserved.com.",
		"cname-nx.com. 300 CNAME target.reserved.com.",
	)
	return startResolver(t, hierarchy(lines, lame))
}

// rowName moves a case's name below the case's own suffix.
func rowName(c rfcCase, name string) string {
	return fmt.Sprintf("%s.row%d.rfc", name, c.line)
}

// TestBoulderCAA runs boulder's checks through rensa's resolver and a
// loopback testbed serving the mock RRsets.
func TestBoulderCAA(t *testing.T) {
	t.Parallel()
	bc := loadBoulder(t)
	rfc := loadRFCCases(t)
	addr := conformanceResolver(t, bc, rfc)
	c := newChecker(t, addr)
	ctx := context.Background()
	for _, tc := range bc.Checks {
		res, err := c.Check(ctx, caa.Request{Name: tc.Request, Issuer: bc.Context.Issuer, AccountURI: bc.Context.AccountURI, Method: bc.Context.Method})
		if err != nil {
			t.Errorf("%s: %v", tc.Name, err)
			continue
		}
		want := ""
		if tc.FoundAt != "" {
			want = tc.FoundAt + "."
		}
		if res.RelevantName != want || (res.Status == caa.Allowed) != tc.Valid {
			t.Errorf("%s: %s: relevant %q status %s, want %q valid=%v: %s", tc.Name, tc.Request, res.RelevantName, res.Status, want, tc.Valid, res.Decision.Reason)
		}
	}

	t.Run("RFC8659", func(t *testing.T) {
		for _, tc := range rfc {
			req := caa.Request{Name: rowName(tc, tc.request), Issuer: tc.ca}
			res, err := c.Check(ctx, req)
			if err != nil {
				t.Errorf("line %d: %v", tc.line, err)
				continue
			}
			want := ""
			if tc.relevant != "" {
				want = rowName(tc, tc.relevant) + "."
			}
			if res.RelevantName != want || (res.Status == caa.Allowed) != tc.allowed {
				t.Errorf("line %d: %s by %s: relevant %q status %s, want %q allowed=%v (%s): %s", tc.line, tc.request, tc.ca, res.RelevantName, res.Status, want, tc.allowed, tc.ref, res.Decision.Reason)
			}
		}
	})

	t.Run("CNAME", func(t *testing.T) {
		for _, tc := range []struct {
			name, relevant string
			status         caa.Status
		}{
			// An alias is judged by its target's RRset (reserved.com:
			// issue "ca.com"), which is the relevant RRset of the alias.
			{"cname-present.com", "cname-present.com.", caa.NotAllowed},
			{"www.cname-present.com", "cname-present.com.", caa.NotAllowed},
			// The target has no CAA records: the climb goes on from the
			// alias's parent (com.), not from the target's (reserved.com.).
			{"cname-nx.com", "", caa.Allowed},
		} {
			res, err := c.Check(ctx, caa.Request{Name: tc.name, Issuer: "letsencrypt.org"})
			if err != nil || res.RelevantName != tc.relevant || res.Status != tc.status {
				t.Errorf("%s: relevant %q status %s err %v, want %q %s", tc.name, res.RelevantName, res.Status, err, tc.relevant, tc.status)
			}
		}
	})

	t.Run("DNSFailure", func(t *testing.T) {
		// Lame delegations: the resolver answers SERVFAIL. The search
		// must fail, never say "allowed", even with present.com's
		// permissive RRset one level up.
		for _, name := range []string{"servfail.com", "servfail.present.com", "x.servfail.present.com", "caa-timeout.com"} {
			res, err := c.Check(ctx, caa.Request{Name: name, Issuer: "letsencrypt.org"})
			if !errors.Is(err, caa.ErrLookup) || res.Status != caa.DNSFailure {
				t.Errorf("%s: status %s err %v, want a DNS failure", name, res.Status, err)
			}
		}
	})
}

// TestCAACheckBlackHole asks a resolver that never answers: DNS failure.
func TestCAACheckBlackHole(t *testing.T) {
	t.Parallel()
	c, err := caa.New(caa.Config{Resolver: transportTo(blackHole(t)), Timeout: 300e6})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Check(context.Background(), caa.Request{Name: "example.test", Issuer: "ca.example.net"})
	if !errors.Is(err, caa.ErrLookup) || res.Status != caa.DNSFailure || res.Decision.Allowed {
		t.Fatalf("status %s err %v, want a DNS failure", res.Status, err)
	}
}
