package resolver

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// corpusCase is one line of ../interop/testdata/corpus.txt (see its
// header): a question and the rcode and answer set a resolver must give.
type corpusCase struct {
	line   int
	name   string
	qtype  uint16
	rcode  int
	answer []string
}

func loadCorpus(t *testing.T, path string) []corpusCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		c := corpusCase{line: n, name: dns.Fqdn(fields[0]), qtype: dns.StringToType[fields[1]], rcode: dns.StringToRcode[fields[2]]}
		if rest := strings.Join(fields[3:], " "); rest != "" {
			for _, s := range strings.Split(rest, " | ") {
				rr, err := dns.NewRR("corpus. 0 IN " + s)
				if err != nil || rr == nil {
					t.Fatalf("%s:%d: %q: %v", path, n, s, err)
				}
				c.answer = append(c.answer, normRdata(rr))
			}
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// normRdata is "TYPE rdata", names in lower case except in free text.
func normRdata(rr dns.RR) string {
	h := rr.Header()
	rdata := strings.Join(strings.Fields(strings.TrimPrefix(rr.String(), h.String())), " ")
	if h.Rrtype != dns.TypeTXT && h.Rrtype != dns.TypeCAA {
		rdata = strings.ToLower(rdata)
	}
	return dns.TypeToString[h.Rrtype] + " " + rdata
}

func (c corpusCase) check(r *dns.Msg) error {
	var got []string
	for _, rr := range r.Answer {
		got = append(got, normRdata(rr))
	}
	slices.Sort(got)
	want := slices.Clone(c.answer)
	slices.Sort(want)
	switch {
	case r.Rcode != c.rcode:
		return fmt.Errorf("rcode %s, want %s (answer %q)", dns.RcodeToString[r.Rcode], dns.RcodeToString[c.rcode], got)
	case !slices.Equal(got, want):
		return fmt.Errorf("answer %q, want %q", got, want)
	}
	return nil
}

var (
	testbedOnce sync.Once
	testbedTB   *testbed.Testbed
	testbedErr  error
)

// startTestbed starts the default testbed once for the package's tests,
// on free ports; the servers stop when the test binary exits.
func startTestbed(t *testing.T) *testbed.Testbed {
	t.Helper()
	testbedOnce.Do(func() {
		testbedTB, testbedErr = testbed.Start(context.Background(), testbed.Config{Port: testbed.PortFree})
	})
	if testbedErr != nil {
		t.Fatal(testbedErr)
	}
	return testbedTB
}

// newTestbedResolver returns a resolver over the testbed, through its
// hints and port mapping.
func newTestbedResolver(t *testing.T, tb *testbed.Testbed, cfg Config) *Resolver {
	t.Helper()
	hints, err := ParseHints(strings.NewReader(tb.RootHints()), "testbed hints")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Hints, cfg.Dial = hints, tb.Dial
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTestbedCorpus resolves every case of the interop corpus through the
// testbed: positive answers, NXDOMAIN, NODATA, CNAME and DNAME chains
// across zones, wildcards, glueless and sibling-glue delegations, and a
// reply too big for UDP. Each case runs twice: cold, and from the cache.
func TestTestbedCorpus(t *testing.T) {
	tb := startTestbed(t)
	cases := loadCorpus(t, "../interop/testdata/corpus.txt")
	for _, mode := range []struct {
		name string
		cfg  Config
	}{
		{"default", Config{}},
		{"no-qmin", Config{NoQNAMEMinimisation: true}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := newTestbedResolver(t, tb, mode.cfg)
			defer func() {
				// The testbed's servers echo the 0x20 case and take EDNS:
				// no fallback was needed.
				for _, s := range tb.Servers() {
					ip := netip.MustParseAddrPort(tb.Addr(s.Addr)).Addr()
					if r.infra.NoCase(ip) || r.infra.NoEDNS(ip) {
						t.Errorf("%s: fallback recorded (0x20 off %v, EDNS off %v)", s.Addr, r.infra.NoCase(ip), r.infra.NoEDNS(ip))
					}
				}
			}()
			for _, pass := range []string{"cold", "cached"} {
				for _, c := range cases {
					q := new(dns.Msg)
					q.SetQuestion(c.name, c.qtype)
					q.SetEdns0(4096, false)
					w := &recorder{network: "tcp"}
					r.ServeDNS(w, q)
					if err := c.check(w.msg); err != nil {
						t.Errorf("%s: corpus.txt:%d %s %s: %v", pass, c.line, c.name, dns.TypeToString[c.qtype], err)
						if testing.Verbose() {
							for _, tr := range r.Resolve(context.Background(), c.name, c.qtype).Trace {
								t.Log(tr)
							}
						}
					}
				}
			}
		})
	}
}
