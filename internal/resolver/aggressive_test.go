package resolver

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/testbed"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time // guarded by mu
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// aggressiveResolver returns a validating resolver over the signed
// testbed tb on clock, and the counter of its upstream sends (resolution
// and validation fetches alike).
func aggressiveResolver(t *testing.T, tb *testbed.Testbed, clock *testClock, off bool) (*Resolver, *atomic.Int64) {
	t.Helper()
	anchors, err := validate.ParseAnchors(strings.NewReader(tb.TrustAnchor()), "testbed anchor")
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(validate.Config{Anchors: anchors, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	sends := new(atomic.Int64)
	inner := do53Exchange(tb.Dial, netip.AddrPort{}, false)
	exchange := func(ctx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
		sends.Add(1)
		return inner(ctx, server, m, tcp)
	}
	return newTestbedResolver(t, tb, Config{Validator: v, Now: clock.Now, Exchange: exchange, NoAggressiveNSEC: off}), sends
}

// askAD asks r for name and qtype with DO set, as a validating stub does
// (askDO, without the timing).
func askAD(r *Resolver, name string, qtype uint16) *dns.Msg {
	m, _ := askDO(r, name, qtype)
	return m
}

// TestAggressiveNSEC checks RFC 8198 on the signed testbed. After one
// validated NXDOMAIN (nonexistent.example.test., denied by the NSEC span
// multi -> ns1 and the apex NSEC for the wildcard), another name in the
// same span is answered NXDOMAIN with AD and the NSEC proof, and a type
// missing from multi's own NSEC NODATA, with no upstream query; a name
// outside the span is asked upstream; once the span's TTL (the SOA
// minimum, 300 s) has passed, so is a name inside it; and with
// NoAggressiveNSEC every new name is asked upstream.
func TestAggressiveNSEC(t *testing.T) {
	t.Parallel()
	start := time.Now().Truncate(time.Second)
	tb, err := testbed.Start(context.Background(), testbed.Config{Zones: signedZones(), Signed: true, Port: testbed.PortFree,
		Now: func() time.Time { return start }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })

	t.Run("on", func(t *testing.T) {
		t.Parallel()
		clock := &testClock{t: start}
		r, sends := aggressiveResolver(t, tb, clock, false)
		first := askAD(r, "nonexistent.example.test.", dns.TypeA)
		if first.Rcode != dns.RcodeNameError || !first.AuthenticatedData {
			t.Fatalf("first NXDOMAIN: rcode %s AD %v", dns.RcodeToString[first.Rcode], first.AuthenticatedData)
		}
		if got := r.nsec.Len("example.test."); got == 0 {
			t.Fatal("no NSEC records kept after a Secure NXDOMAIN")
		}
		for name, m := range expectCachedDenials(t, r, sends, dns.TypeNSEC, []cachedDenial{
			{"nope.example.test.", dns.TypeA, dns.RcodeNameError},
			{"mz.example.test.", dns.TypeAAAA, dns.RcodeNameError},
			{"deep.below.nope.example.test.", dns.TypeTXT, dns.RcodeNameError},
			{"multi.example.test.", dns.TypeMX, dns.RcodeSuccess},
		}) {
			for _, rr := range m.Ns {
				if rr.Header().Ttl > 300 {
					t.Errorf("%s: TTL above the SOA minimum: %v", name, rr)
				}
			}
		}
		// Outside the span, and names the span does not prove absent.
		for _, c := range []struct {
			name  string
			qtype uint16
			rcode int
		}{
			{"zzz.example.test.", dns.TypeA, dns.RcodeNameError},
			{"www.example.test.", dns.TypeA, dns.RcodeSuccess},
			{"multi.example.test.", dns.TypeA, dns.RcodeSuccess},
		} {
			before := sends.Load()
			m := askAD(r, c.name, c.qtype)
			if sends.Load() == before {
				t.Errorf("%s %s: answered without asking upstream", c.name, dns.TypeToString[c.qtype])
			}
			if m.Rcode != c.rcode || !m.AuthenticatedData {
				t.Errorf("%s: rcode %s AD %v", c.name, dns.RcodeToString[m.Rcode], m.AuthenticatedData)
			}
		}
		// Four seconds before the end of the span's 300 s, still from the
		// cache, with the TTL left; after it, upstream again.
		clock.Advance(296 * time.Second)
		before := sends.Load()
		m := askAD(r, "nop.example.test.", dns.TypeA)
		if sends.Load() != before || m.Rcode != dns.RcodeNameError {
			t.Errorf("at 296 s: sends %d rcode %s", sends.Load()-before, dns.RcodeToString[m.Rcode])
		}
		for _, rr := range m.Ns {
			if rr.Header().Ttl > 4 {
				t.Errorf("at 296 s: TTL %d > 4 left: %v", rr.Header().Ttl, rr)
			}
		}
		clock.Advance(5 * time.Second)
		before = sends.Load()
		m = askAD(r, "noq.example.test.", dns.TypeA)
		if sends.Load() == before {
			t.Error("after the TTL: answered from expired NSEC records")
		}
		if m.Rcode != dns.RcodeNameError || !m.AuthenticatedData {
			t.Errorf("after the TTL: rcode %s AD %v", dns.RcodeToString[m.Rcode], m.AuthenticatedData)
		}
	})

	t.Run("off", func(t *testing.T) {
		t.Parallel()
		clock := &testClock{t: start}
		r, sends := aggressiveResolver(t, tb, clock, true)
		if m := askAD(r, "nonexistent.example.test.", dns.TypeA); m.Rcode != dns.RcodeNameError || !m.AuthenticatedData {
			t.Fatalf("first NXDOMAIN: rcode %s AD %v", dns.RcodeToString[m.Rcode], m.AuthenticatedData)
		}
		before := sends.Load()
		if m := askAD(r, "nope.example.test.", dns.TypeA); m.Rcode != dns.RcodeNameError || !m.AuthenticatedData {
			t.Errorf("rcode %s AD %v", dns.RcodeToString[m.Rcode], m.AuthenticatedData)
		}
		if sends.Load() == before {
			t.Error("NoAggressiveNSEC: answered without asking upstream")
		}
	})
}

// TestAggressiveNSECTrace shows an aggressive answer as one "done"
// transition naming RFC 8198, for Resolve as for clients.
func TestAggressiveNSECTrace(t *testing.T) {
	t.Parallel()
	r, sends := startAggressive(t)
	if res := r.Resolve(context.Background(), "nonexistent.example.test.", dns.TypeA); res.Kind != KindNXDomain || res.Security != validate.Secure {
		t.Fatalf("first: %v %v", res.Kind, res.Security)
	}
	before := sends.Load()
	res := r.Resolve(context.Background(), "nope.example.test.", dns.TypeA)
	if res.Kind != KindNXDomain || res.Security != validate.Secure || sends.Load() != before {
		t.Fatalf("second: %v %v, %d sends", res.Kind, res.Security, sends.Load()-before)
	}
	if len(res.Trace) != 1 || res.Trace[0].Step != "done" || !strings.Contains(res.Trace[0].Note, "RFC 8198") {
		t.Errorf("trace %v", res.Trace)
	}
}

// TestAggressiveNSECNotFromInsecure keeps nothing from denials that are
// not Secure: the unsigned sub.example.test. asks upstream for every
// name. (nx2.other.test.'s hash lies outside the NSEC3 spans nx1's
// denial showed: it is asked upstream too.)
func TestAggressiveNSECNotFromInsecure(t *testing.T) {
	t.Parallel()
	r, sends := startAggressive(t)
	for _, names := range [][2]string{
		{"nx1.sub.example.test.", "nx2.sub.example.test."},
		{"nx1.other.test.", "nx2.other.test."},
	} {
		askAD(r, names[0], dns.TypeA)
		before := sends.Load()
		if m := askAD(r, names[1], dns.TypeA); m.Rcode != dns.RcodeNameError {
			t.Errorf("%s: rcode %s", names[1], dns.RcodeToString[m.Rcode])
		}
		if sends.Load() == before {
			t.Errorf("%s: answered without asking upstream", names[1])
		}
	}
}

// cachedDenial is a question aggressive use must answer from the cache,
// and the rcode it must get.
type cachedDenial struct {
	name  string
	qtype uint16
	rcode int
}

// expectCachedDenials asks r each question with DO and AD and checks that
// it is answered without an upstream send, Secure, with the rcode wanted,
// no answer, and the SOA, a denial record of type denial (NSEC or NSEC3)
// and an RRSIG in the authority section. It returns the replies by name.
func expectCachedDenials(t *testing.T, r *Resolver, sends *atomic.Int64, denial uint16, cases []cachedDenial) map[string]*dns.Msg {
	t.Helper()
	replies := map[string]*dns.Msg{}
	for _, c := range cases {
		before := sends.Load()
		m := askAD(r, c.name, c.qtype)
		if n := sends.Load() - before; n != 0 {
			t.Errorf("%s %s: %d upstream sends, want 0", c.name, dns.TypeToString[c.qtype], n)
		}
		if m.Rcode != c.rcode || !m.AuthenticatedData || len(m.Answer) != 0 {
			t.Errorf("%s %s: rcode %s AD %v answer %v", c.name, dns.TypeToString[c.qtype], dns.RcodeToString[m.Rcode], m.AuthenticatedData, m.Answer)
		}
		if !hasRRType(m.Ns, denial) || !hasRRType(m.Ns, dns.TypeSOA) || !hasRRType(m.Ns, dns.TypeRRSIG) {
			t.Errorf("%s: authority lacks SOA, %s or RRSIG: %v", c.name, dns.TypeToString[denial], m.Ns)
		}
		replies[c.name] = m
	}
	return replies
}

func hasRRType(rrs []dns.RR, t uint16) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			return true
		}
	}
	return false
}

// TestAggressiveNSECDS: a DS question is answered from the NSEC records
// of the zone above the name, where a DS lives (deckard nsec_aggr_cache
// asks DS of names below a proven NXDOMAIN); the DS of a kept zone's own
// apex lives in its parent and is asked upstream.
func TestAggressiveNSECDS(t *testing.T) {
	t.Parallel()
	r, sends := startAggressive(t)
	if m := askAD(r, "nonexistent.example.test.", dns.TypeA); m.Rcode != dns.RcodeNameError || !m.AuthenticatedData {
		t.Fatalf("first NXDOMAIN: rcode %s AD %v", dns.RcodeToString[m.Rcode], m.AuthenticatedData)
	}
	before := sends.Load()
	m := askAD(r, "deeper.nope.example.test.", dns.TypeDS)
	if n := sends.Load() - before; n != 0 || m.Rcode != dns.RcodeNameError || !m.AuthenticatedData {
		t.Errorf("DS below a proven NXDOMAIN: %d sends, rcode %s AD %v, want 0, NXDOMAIN, AD", n, dns.RcodeToString[m.Rcode], m.AuthenticatedData)
	}
	before = sends.Load()
	if m := askAD(r, "example.test.", dns.TypeDS); m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
		t.Errorf("example.test. DS: rcode %s answer %v", dns.RcodeToString[m.Rcode], m.Answer)
	}
	if sends.Load() == before {
		t.Error("the DS of a kept zone's apex answered from its own NSEC records")
	}
}

// startAggressive starts the signed test zones and a validating resolver
// with aggressive use on over them; sends counts its upstream queries.
func startAggressive(t *testing.T) (*Resolver, *atomic.Int64) {
	t.Helper()
	tb, err := testbed.Start(context.Background(), testbed.Config{Zones: signedZones(), Signed: true, Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	return aggressiveResolver(t, tb, &testClock{t: time.Now()}, false)
}
