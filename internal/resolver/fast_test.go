package resolver

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/cache"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
)

// fakeClock is an injected Config.Now that tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time // guarded by mu
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// stubValidator gives every question the verdict sec, with the cached
// data as the answer (and an RRSIG after it, for DO clients, when Secure).
type stubValidator struct {
	r   *Resolver
	sec validate.Security
}

func (v *stubValidator) Validate(_ context.Context, q dns.Question, _ validate.Fetch) validate.Verdict {
	vd := validate.Verdict{Security: v.sec}
	if v.sec != validate.Secure {
		return vd
	}
	c := v.r.cache.Get(q.Name, q.Qtype, q.Qclass)
	vd.Answer = c.RRs
	if c.SOA != nil {
		vd.Authority = append(vd.Authority, c.SOA)
	}
	if len(c.RRs) > 0 {
		h := c.RRs[0].Header()
		vd.Answer = append(vd.Answer, &dns.RRSIG{Hdr: dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: 1, Ttl: h.Ttl},
			TypeCovered: h.Rrtype, Algorithm: 13, Labels: 3, OrigTtl: 300, Expiration: 2000000000, Inception: 1,
			KeyTag: 1, SignerName: "example.test.", Signature: "AAAA"})
	}
	return vd
}

// newFastResolver returns a resolver that never reaches the network, with
// a clock on a whole second and some answers cached: two A records, an
// MX set, a NODATA and an NXDOMAIN.
func newFastResolver(t testing.TB, sec *validate.Security) (*Resolver, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	cfg := Config{Now: clock.Now, Exchange: func(context.Context, netip.AddrPort, *dns.Msg, bool) (*dns.Msg, error) {
		return nil, errors.New("no network in this test")
	}}
	var v *stubValidator
	if sec != nil {
		v = &stubValidator{sec: *sec}
		cfg.Validator = v
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil {
		v.r = r
	}
	for _, set := range [][]string{
		{"www.example.test. 300 IN A 192.0.2.1", "www.example.test. 300 IN A 192.0.2.2"},
		{"example.test. 600 IN MX 10 mail.example.test.", "example.test. 600 IN MX 20 mx2.example.test."},
	} {
		var rrs []dns.RR
		for _, s := range set {
			rrs = append(rrs, mustRR(t, s))
		}
		if err := r.cache.Put(rrs, 0); err != nil {
			t.Fatal(err)
		}
	}
	soa := mustRR(t, "example.test. 3600 IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 120").(*dns.SOA)
	if err := r.cache.PutNegative("www.example.test.", dns.TypeTXT, 1, soa, 0); err != nil {
		t.Fatal(err)
	}
	if err := r.cache.PutNegative("nx.example.test.", 0, 1, soa, 0); err != nil {
		t.Fatal(err)
	}
	return r, clock
}

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// fastCase is one client query shape.
type fastCase struct {
	name          string
	qtype         uint16
	edns, do, ad  bool
	size          uint16
	cd, noRD      bool
	cookie        bool
	remote, netwk string
}

func (c fastCase) msg(id uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(c.name, c.qtype)
	m.Id = id
	m.RecursionDesired = !c.noRD
	m.CheckingDisabled = c.cd
	m.AuthenticatedData = c.ad
	if c.edns || c.do || c.cookie {
		m.SetEdns0(max(c.size, 512), c.do)
		if c.size == 0 {
			m.IsEdns0().SetUDPSize(1232)
		}
		if c.cookie {
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
		}
	}
	return m
}

func (c fastCase) addr() net.Addr {
	ip := net.IPv4(127, 0, 0, 1)
	if c.remote != "" {
		ip = net.ParseIP(c.remote)
	}
	return &net.UDPAddr{IP: ip, Port: 40000}
}

func (c fastCase) network() string {
	if c.netwk != "" {
		return c.netwk
	}
	return "udp"
}

// slow returns the slow path's reply to c, packed as the server sends it.
func slow(t *testing.T, r *Resolver, c fastCase, id uint16) []byte {
	t.Helper()
	w := &recorder{network: c.network(), remote: c.addr()}
	r.ServeDNS(w, c.msg(id))
	if w.msg == nil {
		t.Fatalf("%+v: no slow reply", c)
	}
	wire, err := w.msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return wire
}

// fast returns RawHandler's reply to c, and whether it took the query.
func fast(t *testing.T, r *Resolver, c fastCase, id uint16) ([]byte, bool) {
	t.Helper()
	q, err := c.msg(id).Pack()
	if err != nil {
		t.Fatal(err)
	}
	return r.RawHandler(q, c.network(), c.addr(), nil)
}

// warm switches the wire cache on and has the slow path answer c twice
// (the doorkeeper admits a key on its second cache hit).
func warm(t *testing.T, r *Resolver, c fastCase) {
	t.Helper()
	fast(t, r, c, 1)
	slow(t, r, c, 2)
	slow(t, r, c, 3)
}

func TestRawHandlerEqualsSlowPath(t *testing.T) {
	t.Parallel()
	var cases []fastCase
	for _, name := range []string{"www.example.test.", "WwW.ExAmPlE.tEsT.", "example.test.", "EXAMPLE.TEST."} {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeMX, dns.TypeTXT} {
			for _, fl := range []fastCase{{}, {edns: true}, {edns: true, size: 4096}, {do: true}, {ad: true}, {ad: true, do: true}} {
				fl.name, fl.qtype = name, qtype
				cases = append(cases, fl)
			}
		}
	}
	cases = append(cases, fastCase{name: "nx.example.test.", qtype: dns.TypeA}, fastCase{name: "Nx.Example.Test.", qtype: dns.TypeAAAA, edns: true})
	for _, sec := range []*validate.Security{nil, ptr(validate.Secure), ptr(validate.Insecure)} {
		r, clock := newFastResolver(t, sec)
		for _, c := range cases {
			warm(t, r, c)
		}
		for _, step := range []time.Duration{0, time.Second, 3 * time.Second} {
			clock.advance(step)
			for i, c := range cases {
				id := uint16(1000 + i)
				got, ok := fast(t, r, c, id)
				want := slow(t, r, c, id)
				if !ok {
					if r.cache.Get(c.name, c.qtype, 1).Kind == cache.Miss {
						continue // a miss in the RRset cache: nothing to serve
					}
					t.Errorf("sec %v, +%v, %+v: RawHandler declined", sec, step, c)
					continue
				}
				if !bytes.Equal(got, want) {
					var g, w dns.Msg
					g.Unpack(got)
					w.Unpack(want)
					t.Errorf("sec %v, +%v, %+v:\nfast %v\nslow %v", sec, step, c, &g, &w)
				}
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestRawHandlerADOnlyWhenSecureAndAsked(t *testing.T) {
	t.Parallel()
	r, _ := newFastResolver(t, ptr(validate.Secure))
	for _, c := range []fastCase{
		{name: "www.example.test.", qtype: dns.TypeA},
		{name: "www.example.test.", qtype: dns.TypeA, ad: true},
		{name: "www.example.test.", qtype: dns.TypeA, do: true},
		{name: "www.example.test.", qtype: dns.TypeA, edns: true},
	} {
		warm(t, r, c)
		got, ok := fast(t, r, c, 7)
		if !ok {
			t.Fatalf("%+v: declined", c)
		}
		var m dns.Msg
		if err := m.Unpack(got); err != nil {
			t.Fatal(err)
		}
		if want := c.ad || c.do; m.AuthenticatedData != want {
			t.Errorf("%+v: AD %v, want %v", c, m.AuthenticatedData, want)
		}
		sigs := 0
		for _, rr := range m.Answer {
			if rr.Header().Rrtype == dns.TypeRRSIG {
				sigs++
			}
		}
		if want := map[bool]int{true: 1, false: 0}[c.do]; sigs != want {
			t.Errorf("%+v: %d RRSIGs, want %d", c, sigs, want)
		}
	}
}

func TestRawHandlerDeclines(t *testing.T) {
	t.Parallel()
	base := fastCase{name: "www.example.test.", qtype: dns.TypeA, edns: true}
	for _, tc := range []struct {
		why string
		c   fastCase
	}{
		{"CD", fastCase{name: base.name, qtype: base.qtype, edns: true, cd: true}},
		{"CD and DO", fastCase{name: base.name, qtype: base.qtype, do: true, cd: true}},
		{"no RD", fastCase{name: base.name, qtype: base.qtype, edns: true, noRD: true}},
		{"client not allowed", fastCase{name: base.name, qtype: base.qtype, edns: true, remote: "192.0.2.99"}},
		{"TCP", fastCase{name: base.name, qtype: base.qtype, edns: true, netwk: "tcp"}},
		{"EDNS option", fastCase{name: base.name, qtype: base.qtype, cookie: true}},
		{"ANY", fastCase{name: base.name, qtype: dns.TypeANY, edns: true}},
	} {
		t.Run(tc.why, func(t *testing.T) {
			t.Parallel()
			r, _ := newFastResolver(t, nil)
			warm(t, r, base)
			if _, ok := fast(t, r, base, 5); !ok {
				t.Fatal("the plain query was not answered")
			}
			for range 3 {
				slow(t, r, tc.c, 6)
			}
			if got, ok := fast(t, r, tc.c, 6); ok {
				t.Errorf("RawHandler took it: %x", got)
			}
		})
	}
	t.Run("Bogus and Indeterminate are not kept", func(t *testing.T) {
		t.Parallel()
		for _, sec := range []validate.Security{validate.Bogus, validate.Indeterminate} {
			r, _ := newFastResolver(t, &sec)
			warm(t, r, base)
			slow(t, r, base, 6)
			if _, ok := fast(t, r, base, 6); ok {
				t.Errorf("%v: RawHandler answered", sec)
			}
		}
	})
	t.Run("traced", func(t *testing.T) {
		t.Parallel()
		r, _ := newFastResolver(t, nil)
		r.cfg.Trace = func(Transition) {}
		warm(t, r, base)
		if _, ok := fast(t, r, base, 6); ok {
			t.Error("RawHandler answered with Trace set")
		}
	})
}

func TestRawHandlerExpiry(t *testing.T) {
	t.Parallel()
	r, clock := newFastResolver(t, nil)
	c := fastCase{name: "www.example.test.", qtype: dns.TypeA}
	warm(t, r, c)
	// Refill just before the records' last second: TTL 300 - 298 = 2.
	clock.advance(298 * time.Second)
	slow(t, r, c, 1)
	clock.advance(time.Second)
	got, ok := fast(t, r, c, 2)
	if !ok {
		t.Fatal("declined with one second left")
	}
	var m dns.Msg
	if err := m.Unpack(got); err != nil || m.Answer[0].Header().Ttl != 1 {
		t.Fatalf("want TTL 1: %v %v", &m, err)
	}
	if !bytes.Equal(got, slow(t, r, c, 2)) {
		t.Error("fast and slow replies differ with one second left")
	}
	clock.advance(time.Second)
	if _, ok := fast(t, r, c, 3); ok {
		t.Error("answered at TTL 0")
	}
	// A fraction of a second counts as a whole one.
	r2, clock2 := newFastResolver(t, nil)
	warm(t, r2, c)
	clock2.advance(299*time.Second + time.Millisecond)
	if _, ok := fast(t, r2, c, 3); ok {
		t.Error("answered at 299.001 s of 300")
	}
	// fastMaxAge bounds every reply, however long its TTLs.
	r3, clock3 := newFastResolver(t, nil)
	warm(t, r3, c)
	clock3.advance(fastMaxAge)
	if _, ok := fast(t, r3, c, 3); ok {
		t.Error("answered after fastMaxAge")
	}
}

func TestRawHandlerForgetAndFlush(t *testing.T) {
	t.Parallel()
	r, _ := newFastResolver(t, nil)
	c := fastCase{name: "www.example.test.", qtype: dns.TypeA, do: true}
	warm(t, r, c)
	r.forgetWire(dns.Question{Name: "WWW.example.test.", Qtype: dns.TypeA, Qclass: 1})
	if _, ok := fast(t, r, c, 1); ok {
		t.Error("answered after a failure of the question")
	}
	warm(t, r, c)
	if _, ok := fast(t, r, c, 1); !ok {
		t.Fatal("not answered after warming again")
	}
	r.FlushWireCache()
	if _, ok := fast(t, r, c, 1); ok {
		t.Error("answered after FlushWireCache")
	}
	if n, _ := r.fast.Load().entries.Size(); n != 0 {
		t.Errorf("%d entries after the flush", n)
	}
}

func TestRawHandlerMixedCaseClients(t *testing.T) {
	t.Parallel()
	r, _ := newFastResolver(t, nil)
	warm(t, r, fastCase{name: "www.example.test.", qtype: dns.TypeA})
	c := fastCase{name: "wWw.EXAMPLE.test.", qtype: dns.TypeA}
	got, ok := fast(t, r, c, 9)
	if !ok {
		t.Fatal("a differently spelled name was declined")
	}
	if want := slow(t, r, c, 9); !bytes.Equal(got, want) {
		t.Errorf("fast %x\nslow %x", got, want)
	}
	var m dns.Msg
	if err := m.Unpack(got); err != nil {
		t.Fatal(err)
	}
	for _, rr := range m.Answer {
		if rr.Header().Name != c.name {
			t.Errorf("owner %q, want the client's %q", rr.Header().Name, c.name)
		}
	}
}

func TestRawHandlerZeroAllocs(t *testing.T) {
	r, _ := newFastResolver(t, nil)
	c := fastCase{name: "www.example.test.", qtype: dns.TypeA, edns: true}
	warm(t, r, c)
	q, _ := c.msg(77).Pack()
	remote := c.addr()
	out := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(200, func() {
		if _, ok := r.RawHandler(q, "udp", remote, out); !ok {
			t.Fatal("declined")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per hit, want 0", allocs)
	}
}

func FuzzResolverRaw(f *testing.F) {
	r, _ := newFastResolver(f, nil)
	for _, c := range []fastCase{
		{name: "www.example.test.", qtype: dns.TypeA},
		{name: "www.example.test.", qtype: dns.TypeA, edns: true, do: true},
		{name: "example.test.", qtype: dns.TypeMX, ad: true},
		{name: "nx.example.test.", qtype: dns.TypeA, edns: true},
	} {
		q, _ := c.msg(0x1234).Pack()
		r.RawHandler(q, "udp", c.addr(), nil)
		for range 2 {
			w := &recorder{network: "udp"}
			r.ServeDNS(w, c.msg(1))
		}
		f.Add(q)
	}
	remote := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	f.Fuzz(func(t *testing.T, query []byte) {
		reply, ok := r.RawHandler(query, "udp", remote, nil)
		if !ok {
			return
		}
		var m dns.Msg
		if err := m.Unpack(reply); err != nil {
			t.Fatalf("reply does not unpack: %v", err)
		}
		if id := uint16(query[0])<<8 | uint16(query[1]); m.Id != id || !m.Response {
			t.Fatalf("reply ID %d (QR %v), query ID %d", m.Id, m.Response, id)
		}
	})
}

// BenchmarkRawHandlerHit measures a cache hit on the fast path, to set
// against BenchmarkServeDNSCacheHit.
func BenchmarkRawHandlerHit(b *testing.B) {
	r, _ := newFastResolver(b, nil)
	c := fastCase{name: "www.example.test.", qtype: dns.TypeA, edns: true}
	q, _ := c.msg(77).Pack()
	r.RawHandler(q, "udp", c.addr(), nil)
	for range 2 {
		r.ServeDNS(&recorder{network: "udp"}, c.msg(1))
	}
	remote, out := c.addr(), make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := r.RawHandler(q, "udp", remote, out); !ok {
			b.Fatal("declined")
		}
	}
}

// TestRawHandlerCNAMEChain: a reply that follows cached CNAMEs is kept
// and served like a direct one, equal to the slow path's.
func TestRawHandlerCNAMEChain(t *testing.T) {
	t.Parallel()
	r, clock := newFastResolver(t, nil)
	for _, s := range []string{"alias.example.test. 120 IN CNAME alias2.example.test.", "alias2.example.test. 200 IN CNAME www.example.test."} {
		if err := r.cache.Put([]dns.RR{mustRR(t, s)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	var cases []fastCase
	for _, name := range []string{"alias.example.test.", "AlIaS.eXaMpLe.TeSt."} {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeTXT} {
			for _, fl := range []fastCase{{}, {edns: true}, {do: true}} {
				fl.name, fl.qtype = name, qtype
				cases = append(cases, fl)
			}
		}
	}
	for _, c := range cases {
		warm(t, r, c)
	}
	for _, step := range []time.Duration{0, time.Second, 3 * time.Second} {
		clock.advance(step)
		for i, c := range cases {
			id := uint16(2000 + i)
			got, ok := fast(t, r, c, id)
			want := slow(t, r, c, id)
			if !ok {
				t.Errorf("+%v, %+v: RawHandler declined", step, c)
				continue
			}
			if !bytes.Equal(got, want) {
				var g, w dns.Msg
				g.Unpack(got)
				w.Unpack(want)
				t.Errorf("+%v, %+v:\nfast %v\nslow %v", step, c, &g, &w)
			}
		}
	}
}
