package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// upstreamLog records every query the resolver sends upstream.
type upstreamLog struct {
	mu   sync.Mutex
	sent []string // "name TYPE do=BOOL"
}

func (l *upstreamLog) wrap(next ExchangeFunc) ExchangeFunc {
	return func(ctx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
		do := false
		if opt := m.IsEdns0(); opt != nil {
			do = opt.Do()
		}
		l.mu.Lock()
		l.sent = append(l.sent, strings.ToLower(m.Question[0].Name)+" "+dns.TypeToString[m.Question[0].Qtype]+" do="+map[bool]string{true: "1", false: "0"}[do])
		l.mu.Unlock()
		return next(ctx, server, m, tcp)
	}
}

func (l *upstreamLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.sent
	l.sent = nil
	return out
}

// coldMissResolver returns a resolver over a signed testbed whose
// upstream queries log records, validating when validating is set.
func coldMissResolver(t *testing.T, validating bool) (*Resolver, *upstreamLog) {
	t.Helper()
	tb, err := testbed.Start(context.Background(), testbed.Config{Signed: true, Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	var cfg Config
	if validating {
		v := testbedValidator(t, tb)
		cfg.Validator = v
	}
	log := &upstreamLog{}
	cfg.Exchange = log.wrap(do53Exchange(tb.Dial, netip.AddrPort{}, false))
	return newTestbedResolver(t, tb, cfg), log
}

// askA sends name A with DO to r and returns the reply.
func askA(r *Resolver, name string) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	q.SetEdns0(1232, true)
	w := &recorder{network: "udp"}
	r.ServeDNS(w, q)
	return w.msg
}

// TestColdMissOneUpstreamQuery pins the cost of a cache miss in a zone
// the resolver already knows, with and without validation: exactly one
// upstream query. QNAME minimisation does not ask again for
// wild.example.test. (the cache holds its NODATA: no zone cut there),
// and the validator takes the answer's signatures and the NSEC proving
// the wildcard expansion from the resolution's own reply, asked with DO,
// instead of fetching them a second time. The last name follows a
// wildcard CNAME whose target is cached: one query too, as the RRSIGs
// of the target were cached beside it. Validating, a2 costs nothing: the
// wildcard and the NSEC covering it came with a1 (aggressive_wildcard.go).
func TestColdMissOneUpstreamQuery(t *testing.T) {
	for _, validating := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "validating"}[validating], func(t *testing.T) {
			r, log := coldMissResolver(t, validating)
			for _, warm := range []string{"warm.wild.example.test.", "warm.apps.other.test."} {
				if m := askA(r, warm); m.Rcode != dns.RcodeSuccess || m.AuthenticatedData != validating {
					t.Fatalf("warming with %s: rcode %s AD %v", warm, dns.RcodeToString[m.Rcode], m.AuthenticatedData)
				}
			}
			log.take()
			for _, name := range []string{"a1.wild.example.test.", "a2.wild.example.test.", "c1.apps.other.test."} {
				m := askA(r, name)
				sent := log.take()
				if m.Rcode != dns.RcodeSuccess || m.AuthenticatedData != validating || len(m.Answer) == 0 {
					t.Errorf("%s: rcode %s AD %v answer %v", name, dns.RcodeToString[m.Rcode], m.AuthenticatedData, m.Answer)
				}
				// The CNAME's target is cached, with its RRSIGs
				// when validating: nothing more is asked.
				want := []string{name + " A do=" + map[bool]string{false: "0", true: "1"}[validating]}
				if validating && name == "a2.wild.example.test." {
					// a1's answer proved *.wild and the NSEC covering
					// a2: synthesised from them (RFC 8198 §5.4).
					want = nil
				}
				if !slices.Equal(sent, want) {
					t.Errorf("%s: upstream queries %q, want %q", name, sent, want)
				}
			}
		})
	}
}

// TestValidatedMissAsksEachQuestionOnce: from a cold cache, a validated
// resolution never sends the same question twice (the answer with its
// RRSIGs is asked once, with DO), and the answer is Secure.
func TestValidatedMissAsksEachQuestionOnce(t *testing.T) {
	r, log := coldMissResolver(t, true)
	for _, name := range []string{"www.example.test.", "x.wild.example.test.", "chain.example.test.", "www.other.test."} {
		m := askA(r, name)
		if m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
			t.Errorf("%s: rcode %s AD %v", name, dns.RcodeToString[m.Rcode], m.AuthenticatedData)
		}
		seen := map[string]bool{}
		for _, q := range log.take() {
			q, _, _ = strings.Cut(q, " do=") // with DO or without, asked is asked
			if seen[q] {
				t.Errorf("%s: %q asked twice", name, q)
			}
			seen[q] = true
		}
	}
}

// BenchmarkColdMiss resolves names never asked before under
// wild.example.test. through the testbed, with the default UDP exchange
// (the testbed's ports mapped in): the in-process view of the cold run
// of scripts/bench-resolver.sh, for profiles (-cpuprofile,
// -memprofile).
func BenchmarkColdMiss(b *testing.B) {
	tb, err := testbed.Start(context.Background(), testbed.Config{Port: testbed.PortFree})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tb.Close() })
	fast := do53Exchange(nil, netip.AddrPort{}, false)
	hints, err := ParseHints(strings.NewReader(tb.RootHints()), "testbed hints")
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(Config{Hints: hints, Exchange: func(ctx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
		return fast(ctx, netip.MustParseAddrPort(tb.Addr(server.String())), m, tcp)
	}})
	if err != nil {
		b.Fatal(err)
	}
	r.ownExchange = true // the wrapper only maps ports: the default exchange bounds attempts
	askA(r, "warm.wild.example.test.")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if m := askA(r, fmt.Sprintf("b%d.wild.example.test.", i)); m.Rcode != dns.RcodeSuccess {
			b.Fatal(m)
		}
	}
}

// BenchmarkColdMissValidated resolves, validating, names with records of
// their own (n1..n1000.zbulk.example.test., each answer with its own
// RRSIG to verify) through the signed testbed, with the default UDP
// exchange: the in-process view of the validated cold run of
// scripts/bench-resolver.sh. The testbed has 1,000 such names, so every
// 1,000 names a fresh resolver and validator take over (outside the
// timer), warmed with one name of the zone as the script's readiness
// check does.
func BenchmarkColdMissValidated(b *testing.B) {
	tb, err := testbed.Start(context.Background(), testbed.Config{Signed: true, Port: testbed.PortFree})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tb.Close() })
	fresh := func() *Resolver {
		hints, err := ParseHints(strings.NewReader(tb.RootHints()), "testbed hints")
		if err != nil {
			b.Fatal(err)
		}
		exchange := do53Exchange(nil, netip.AddrPort{}, false)
		r, err := New(Config{Hints: hints, Validator: testbedValidator(b, tb),
			Exchange: func(ctx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
				return exchange(ctx, netip.MustParseAddrPort(tb.Addr(server.String())), m, tcp)
			}})
		if err != nil {
			b.Fatal(err)
		}
		r.ownExchange = true // the wrapper only maps ports
		if m := askA(r, "www.example.test."); !m.AuthenticatedData {
			b.Fatalf("warming: %v", m)
		}
		return r
	}
	var r *Resolver
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%1000 == 0 {
			b.StopTimer()
			r = fresh()
			b.StartTimer()
		}
		i++
		if m := askA(r, fmt.Sprintf("n%d.zbulk.example.test.", (i-1)%1000+1)); m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
			b.Fatal(m)
		}
	}
}
