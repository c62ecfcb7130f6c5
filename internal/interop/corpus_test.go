package interop

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// corpusCase is one line of testdata/corpus.txt: a question and the reply
// a resolver must give.
type corpusCase struct {
	line   int
	name   string
	qtype  uint16
	rcode  int
	answer []string // "TYPE rdata", normalised by normRdata
}

func (c corpusCase) String() string {
	return fmt.Sprintf("corpus.txt:%d %s %s", c.line, c.name, dns.TypeToString[c.qtype])
}

// loadCorpus reads a corpus file; see its header for the format.
func loadCorpus(t *testing.T, path string) []corpusCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c, err := parseCase(line)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		c.line = n
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// parseCase reads "NAME TYPE RCODE [RR | RR ...]".
func parseCase(line string) (corpusCase, error) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return corpusCase{}, fmt.Errorf("want NAME TYPE RCODE [RR | ...], got %q", line)
	}
	c := corpusCase{name: dns.Fqdn(f[0])}
	var ok bool
	if c.qtype, ok = dns.StringToType[f[1]]; !ok {
		return c, fmt.Errorf("unknown type %q", f[1])
	}
	if c.rcode, ok = dns.StringToRcode[f[2]]; !ok {
		return c, fmt.Errorf("unknown rcode %q", f[2])
	}
	rest := strings.TrimSpace(strings.Join(f[3:], " "))
	if rest == "" {
		return c, nil
	}
	for _, s := range strings.Split(rest, " | ") {
		rr, err := dns.NewRR("corpus. 0 IN " + s)
		if err != nil || rr == nil {
			return c, fmt.Errorf("record %q: %v", s, err)
		}
		c.answer = append(c.answer, normRdata(rr))
	}
	return c, nil
}

// normRdata formats rr as "TYPE rdata" without owner, TTL and class.
// Names in the data are compared in lower case: DNS names are
// case-insensitive, and a server may compress a name in the data against
// the question, so the reply carries the asker's case (RFC 4343).
func normRdata(rr dns.RR) string {
	h := rr.Header()
	rdata := strings.Join(strings.Fields(strings.TrimPrefix(rr.String(), h.String())), " ")
	switch h.Rrtype {
	case dns.TypeTXT, dns.TypeCAA: // free text, no names
	default:
		rdata = strings.ToLower(rdata)
	}
	return dns.TypeToString[h.Rrtype] + " " + rdata
}

// check compares a resolver's reply with the case. Beyond the rcode and
// the answer set, a non-empty answer must hold a record owned by the
// query name (synthesised wildcard owners included).
func (c corpusCase) check(r *dns.Msg) error {
	var got []string
	ownsQname := false
	for _, rr := range r.Answer {
		got = append(got, normRdata(rr))
		ownsQname = ownsQname || strings.EqualFold(rr.Header().Name, c.name)
	}
	switch {
	case r.Rcode != c.rcode:
		return fmt.Errorf("rcode %s, want %s (answer %q)", dns.RcodeToString[r.Rcode], dns.RcodeToString[c.rcode], got)
	case !sameSet(got, c.answer):
		return fmt.Errorf("answer %q, want %q", got, c.answer)
	case len(got) > 0 && !ownsQname:
		return fmt.Errorf("no answer record is owned by %s: %q", c.name, r.Answer)
	}
	return nil
}

// TestCorpusFile checks that the corpus parses and covers each kind of
// case the testbed exists for.
func TestCorpusFile(t *testing.T) {
	t.Parallel()
	cases := loadCorpus(t, "testdata/corpus.txt")
	if len(cases) < 100 {
		t.Errorf("corpus has %d cases, want at least 100", len(cases))
	}
	kinds := map[string]bool{}
	for _, c := range cases {
		switch {
		case c.rcode == dns.RcodeNameError:
			kinds["NXDOMAIN"] = true
		case len(c.answer) == 0:
			kinds["NODATA"] = true
		}
		for _, a := range c.answer {
			kinds[strings.Fields(a)[0]] = true
		}
	}
	for _, k := range []string{"A", "AAAA", "TXT", "MX", "CAA", "CNAME", "DNAME", "NS", "SOA", "SRV", "NXDOMAIN", "NODATA"} {
		if !kinds[k] {
			t.Errorf("corpus has no %s case", k)
		}
	}
}
