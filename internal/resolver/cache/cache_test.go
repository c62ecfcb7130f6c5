package cache

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time              { return c.t }
func (c *clock) advance(d time.Duration)     { c.t = c.t.Add(d) }
func newClock() *clock                       { return &clock{t: time.Unix(1700000000, 0)} }
func newCache(c *clock, maxBytes int) *Cache { return New(Config{Now: c.now, MaxBytes: maxBytes}) }

func rrs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil || rr == nil {
			t.Fatalf("bad RR %q: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

func soa(t *testing.T, ttl, minimum uint32) *dns.SOA {
	return rrs(t, fmt.Sprintf("example.test. %d IN SOA ns1.example.test. h.example.test. 1 7200 900 1209600 %d", ttl, minimum))[0].(*dns.SOA)
}

func TestPutGet(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := newCache(clk, 0)
	if err := c.Put(rrs(t, "www.example.test. 300 IN A 192.0.2.10", "www.example.test. 200 IN A 192.0.2.11"), RankAnswerAuth); err != nil {
		t.Fatal(err)
	}
	res := c.Get("WWW.Example.TEST.", dns.TypeA, dns.ClassINET)
	if res.Kind != Positive || len(res.RRs) != 2 || res.RRs[0].Header().Ttl != 200 || res.Rank != RankAnswerAuth {
		t.Fatalf("got %v %v rank %v", res.Kind, res.RRs, res.Rank)
	}
	clk.advance(150 * time.Second)
	if ttl := c.Get("www.example.test.", dns.TypeA, dns.ClassINET).RRs[0].Header().Ttl; ttl != 50 {
		t.Errorf("TTL after 150 s = %d, want 50", ttl)
	}
	clk.advance(50 * time.Second)
	if k := c.Get("www.example.test.", dns.TypeA, dns.ClassINET).Kind; k != Miss {
		t.Errorf("after expiry: %v, want Miss", k)
	}
	if c.Len() != 0 {
		t.Errorf("expired entry kept: Len %d", c.Len())
	}
}

// TestRFC2181Rank checks that a lower rank never replaces a higher one
// while it lives, and that equal or higher ranks do.
func TestRFC2181Rank(t *testing.T) {
	t.Parallel()
	order := []Rank{RankAdditional, RankGlue, RankAnswerNonAuth, RankAuthorityAuth, RankAnswerAuth}
	for i, hi := range order {
		for j, lo := range order {
			clk := newClock()
			c := newCache(clk, 0)
			if err := c.Put(rrs(t, "ns.example.test. 300 IN A 192.0.2.1"), hi); err != nil {
				t.Fatal(err)
			}
			err := c.Put(rrs(t, "ns.example.test. 300 IN A 203.0.113.66"), lo)
			got := c.Get("ns.example.test.", dns.TypeA, dns.ClassINET)
			replaced := got.RRs[0].(*dns.A).A.String() == "203.0.113.66"
			if want := j >= i; replaced != want || (err == nil) != want {
				t.Errorf("cached %v, then %v: replaced %v (err %v), want %v", hi, lo, replaced, err, want)
			}
			if j < i && !errors.Is(err, ErrRank) {
				t.Errorf("%v over %v: err %v, want ErrRank", lo, hi, err)
			}
			// Once the higher-ranked entry expires, anything may replace it.
			clk.advance(301 * time.Second)
			if err := c.Put(rrs(t, "ns.example.test. 300 IN A 203.0.113.67"), lo); err != nil {
				t.Errorf("after expiry: %v", err)
			}
		}
	}
}

func TestTTLClamp(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := newCache(clk, 0)
	c.Put(rrs(t, "long.example.test. 2147483647 IN A 192.0.2.1"), RankAnswerAuth)
	if ttl := c.Get("long.example.test.", dns.TypeA, dns.ClassINET).RRs[0].Header().Ttl; ttl != uint32(MaxTTL/time.Second) {
		t.Errorf("TTL %d, want clamped to %v", ttl, MaxTTL)
	}
	c.PutNegative("nx.example.test.", 0, dns.ClassINET, soa(t, 86400, 86400), RankAuthorityAuth)
	if ttl := c.Get("nx.example.test.", dns.TypeA, dns.ClassINET).SOA.Header().Ttl; ttl != uint32(MaxNegativeTTL/time.Second) {
		t.Errorf("negative TTL %d, want clamped to %v", ttl, MaxNegativeTTL)
	}
}

// TestRFC2308 checks negative caching: NXDOMAIN per name for every type,
// NODATA per name and type, TTL = min(SOA TTL, MINIMUM).
func TestRFC2308(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := newCache(clk, 0)
	if err := c.PutNegative("nx.example.test.", 0, dns.ClassINET, soa(t, 3600, 300), RankAuthorityAuth); err != nil {
		t.Fatal(err)
	}
	if err := c.PutNegative("www.example.test.", dns.TypeMX, dns.ClassINET, soa(t, 60, 300), RankAuthorityAuth); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		qtype uint16
		kind  Kind
		ttl   uint32
	}{
		{"nx.example.test.", dns.TypeA, NXDomain, 300},
		{"NX.example.test.", dns.TypeTXT, NXDomain, 300},
		{"www.example.test.", dns.TypeMX, NoData, 60},
		{"www.example.test.", dns.TypeA, Miss, 0},
	} {
		res := c.Get(tc.name, tc.qtype, dns.ClassINET)
		if res.Kind != tc.kind || (res.SOA != nil && res.SOA.Header().Ttl != tc.ttl) {
			t.Errorf("%s %d: %v %v, want %v TTL %d", tc.name, tc.qtype, res.Kind, res.SOA, tc.kind, tc.ttl)
		}
	}
	if err := c.PutNegative("x.example.test.", 0, dns.ClassINET, nil, RankAuthorityAuth); err == nil {
		t.Error("negative entry without SOA accepted")
	}
	// A positive answer of equal or higher rank replaces the denial.
	c.Put(rrs(t, "nx.example.test. 300 IN A 192.0.2.1"), RankAnswerAuth)
	if k := c.Get("nx.example.test.", dns.TypeA, dns.ClassINET).Kind; k != Positive {
		t.Errorf("after positive: %v", k)
	}
	clk.advance(61 * time.Second)
	if k := c.Get("www.example.test.", dns.TypeMX, dns.ClassINET).Kind; k != Miss {
		t.Errorf("NODATA after its TTL: %v", k)
	}
}

func TestMaxRRsPerRRset(t *testing.T) {
	t.Parallel()
	c := newCache(newClock(), 0)
	var set []dns.RR
	for i := range MaxRRsPerRRset + 1 {
		set = append(set, rrs(t, fmt.Sprintf("big.example.test. 300 IN A 10.0.%d.%d", i/256, i%256))...)
	}
	if err := c.Put(set, RankAnswerAuth); !errors.Is(err, ErrTooLarge) {
		t.Errorf("%d records: err %v, want ErrTooLarge", len(set), err)
	}
	if err := c.Put(set[:MaxRRsPerRRset], RankAnswerAuth); err != nil {
		t.Errorf("%d records: %v", MaxRRsPerRRset, err)
	}
	if err := c.Put(rrs(t, "a.example.test. 1 IN A 192.0.2.1", "b.example.test. 1 IN A 192.0.2.1"), RankAnswerAuth); err == nil {
		t.Error("mixed owners accepted as one RRset")
	}
}

// TestEviction checks that the cache stays within MaxBytes and drops the
// least recently used entries first.
func TestEviction(t *testing.T) {
	t.Parallel()
	const limit = 4096
	c := newCache(newClock(), limit)
	for i := range 1000 {
		c.Put(rrs(t, fmt.Sprintf("n%d.example.test. 300 IN A 192.0.2.1", i)), RankAnswerAuth)
		c.Get("n0.example.test.", dns.TypeA, dns.ClassINET) // keep n0 hot
		if c.Bytes() > limit {
			t.Fatalf("after %d puts: %d bytes, limit %d", i+1, c.Bytes(), limit)
		}
	}
	if c.Get("n0.example.test.", dns.TypeA, dns.ClassINET).Kind != Positive {
		t.Error("the recently used entry was evicted")
	}
	if c.Get("n1.example.test.", dns.TypeA, dns.ClassINET).Kind != Miss {
		t.Error("an old unused entry survived")
	}
}

// TestDelegationApart checks that answer data never changes a delegation
// and that delegations are not answers.
func TestDelegationApart(t *testing.T) {
	t.Parallel()
	c := newCache(newClock(), 0)
	ns := rrs(t, "example.test. 3600 IN NS ns1.example.test.")[0].(*dns.NS)
	glue := rrs(t, "ns1.example.test. 3600 IN A 127.53.2.1")
	if err := c.PutDelegation(Delegation{Zone: "Example.Test.", NS: []*dns.NS{ns}, Glue: glue}); err != nil {
		t.Fatal(err)
	}
	c.Put(rrs(t, "example.test. 3600 IN NS ns.attacker.test."), RankAuthorityAuth)
	d, ok := c.Delegation("example.test.")
	if !ok || len(d.NS) != 1 || d.NS[0].Ns != "ns1.example.test." || len(d.Glue) != 1 {
		t.Fatalf("delegation %v %v", d, ok)
	}
	if k := c.Get("ns1.example.test.", dns.TypeA, dns.ClassINET).Kind; k != Miss {
		t.Errorf("glue answered as data: %v", k)
	}
}

// TestDelegationShared: the shared view of a delegation holds what
// Delegation holds (TTLs as stored), expires with it, and appending to
// its slices does not write into the cache's.
func TestDelegationShared(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := newCache(clk, 0)
	var ns []*dns.NS
	for _, rr := range rrs(t, "example.test. 300 IN NS ns1.example.test.", "example.test. 300 IN NS ns2.example.test.", "example.test. 300 IN NS ns3.example.test.") {
		ns = append(ns, rr.(*dns.NS))
	}
	glue := rrs(t, "ns1.example.test. 300 IN A 127.53.2.1")
	if err := c.PutDelegation(Delegation{Zone: "example.test.", NS: ns, Glue: glue}); err != nil {
		t.Fatal(err)
	}
	clk.advance(100 * time.Second)
	d, ok := c.DelegationShared("Example.TEST.")
	copied, _ := c.Delegation("example.test.")
	if !ok || d.Zone != "example.test." || len(d.NS) != 3 || len(d.Glue) != 1 || d.NS[0].Hdr.Ttl != 300 || copied.NS[0].Hdr.Ttl != 200 {
		t.Fatalf("shared %v %v, copied %v", d, ok, copied)
	}
	for i := range d.NS {
		if d.NS[i].Ns != copied.NS[i].Ns {
			t.Errorf("NS %d: shared %s, copied %s", i, d.NS[i].Ns, copied.NS[i].Ns)
		}
	}
	_ = append(d.NS, &dns.NS{Ns: "ns.attacker.test."}) // the cache's slice has room for a fourth
	if again, _ := c.DelegationShared("example.test."); len(again.NS) != 3 || cap(again.NS) != 3 {
		t.Errorf("an append to the shared view wrote into the cache: %v", again.NS)
	}
	clk.advance(201 * time.Second)
	if _, ok := c.DelegationShared("example.test."); ok {
		t.Error("shared view of an expired delegation")
	}
}

func TestInfra(t *testing.T) {
	t.Parallel()
	clk := newClock()
	in := NewInfra(clk.now)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	if in.RTT(a) != initialRTT {
		t.Errorf("unknown RTT %v", in.RTT(a))
	}
	for range 20 {
		in.Success(a, 10*time.Millisecond)
		in.Timeout(b)
	}
	if !(in.RTT(a) < initialRTT && in.RTT(b) > initialRTT) {
		t.Errorf("RTTs a %v b %v", in.RTT(a), in.RTT(b))
	}
	in.SetLame(a, "Example.Test.")
	in.SetNoCase(b)
	in.SetNoEDNS(b)
	if !in.Lame(a, "example.test.") || in.Lame(a, "test.") || !in.NoCase(b) || in.NoCase(a) || !in.NoEDNS(b) {
		t.Error("flags not recorded")
	}
	clk.advance(lameTTL + time.Second)
	if in.Lame(a, "example.test.") || in.NoCase(b) || in.NoEDNS(b) {
		t.Error("flags outlived their TTL")
	}
}

// TestRFC8767ServeStale checks that expired entries stay available to
// GetStale within the window, with TTL StaleTTL, and only when enabled.
func TestRFC8767ServeStale(t *testing.T) {
	t.Parallel()
	clk := newClock()
	off := newCache(clk, 0)
	on := New(Config{Now: clk.now, ServeStale: time.Hour})
	for _, c := range []*Cache{off, on} {
		c.Put(rrs(t, "www.example.test. 60 IN A 192.0.2.10"), RankAnswerAuth)
		c.PutNegative("nx.example.test.", 0, dns.ClassINET, soa(t, 60, 60), RankAuthorityAuth)
	}
	clk.advance(2 * time.Minute)
	if on.Get("www.example.test.", dns.TypeA, dns.ClassINET).Kind != Miss {
		t.Error("Get returned an expired entry")
	}
	res := on.GetStale("www.example.test.", dns.TypeA, dns.ClassINET)
	if res.Kind != Positive || res.RRs[0].Header().Ttl != uint32(StaleTTL/time.Second) {
		t.Errorf("GetStale: %v %v", res.Kind, res.RRs)
	}
	if k := on.GetStale("nx.example.test.", dns.TypeA, dns.ClassINET).Kind; k != NXDomain {
		t.Errorf("stale NXDOMAIN: %v", k)
	}
	if k := off.GetStale("www.example.test.", dns.TypeA, dns.ClassINET).Kind; k != Miss {
		t.Errorf("serve-stale off: %v", k)
	}
	clk.advance(time.Hour)
	if k := on.GetStale("www.example.test.", dns.TypeA, dns.ClassINET).Kind; k != Miss {
		t.Errorf("past the stale window: %v", k)
	}
}

// TestSigs: RRSIGs are kept beside their RRset, by the type they cover,
// for their own TTL; Get and Peek never see them, and they clear no
// NXDOMAIN; a set mixing owners or covered types is refused.
func TestSigs(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := newCache(clk, 0)
	sigs := func(lines ...string) []*dns.RRSIG {
		var out []*dns.RRSIG
		for _, rr := range rrs(t, lines...) {
			out = append(out, rr.(*dns.RRSIG))
		}
		return out
	}
	const sigA = "www.other.test. 300 IN RRSIG A 13 3 3600 20261209000000 20261125000000 4711 other.test. AAAA"
	const sigA2 = "www.other.test. 100 IN RRSIG A 13 3 3600 20261209000000 20261125000000 4712 other.test. AAAA"
	data := rrs(t, "www.other.test. 300 IN A 192.0.2.20", "www.other.test. 300 IN A 192.0.2.21")
	if err := c.PutSigs(sigs(sigA, sigA2), data); err != nil {
		t.Fatal(err)
	}
	// The cached RRset comes back in another order, with TTLs aged.
	cached := rrs(t, "www.other.test. 42 IN A 192.0.2.21", "www.other.test. 42 IN A 192.0.2.20")
	got := c.Sigs("WWW.other.test.", dns.TypeA, dns.ClassINET, cached)
	if len(got) != 2 || got[0].Header().Ttl != 100 {
		t.Fatalf("Sigs = %v, want both with TTL 100", got)
	}
	if got := c.Sigs("www.other.test.", dns.TypeA, dns.ClassINET, data[:1]); got != nil {
		t.Errorf("RRSIGs returned for other data than they came with: %v", got)
	}
	if c.Sigs("www.other.test.", dns.TypeAAAA, dns.ClassINET, data) != nil {
		t.Error("RRSIGs over A returned for AAAA")
	}
	if res := c.Get("www.other.test.", dns.TypeA, dns.ClassINET); res.Kind != Miss {
		t.Errorf("Get sees the RRSIGs: %v", res)
	}
	if k := c.Peek("www.other.test.", dns.TypeA, dns.ClassINET); k != Miss {
		t.Errorf("Peek sees the RRSIGs: %v", k)
	}
	if err := c.PutNegative("gone.other.test.", 0, dns.ClassINET, soa(t, 300, 300), RankAnswerAuth); err != nil {
		t.Fatal(err)
	}
	if err := c.PutSigs(sigs("gone.other.test. 300 IN RRSIG A 13 3 3600 20261209000000 20261125000000 4711 other.test. AAAA"), data); err != nil {
		t.Fatal(err)
	}
	if res := c.Get("gone.other.test.", dns.TypeA, dns.ClassINET); res.Kind != NXDomain {
		t.Errorf("RRSIGs cleared an NXDOMAIN: %v", res)
	}
	clk.advance(101 * time.Second)
	if got := c.Sigs("www.other.test.", dns.TypeA, dns.ClassINET, data); got != nil {
		t.Errorf("RRSIGs live past their TTL: %v", got)
	}
	for _, bad := range [][]*dns.RRSIG{
		sigs(sigA, "mail.other.test. 300 IN RRSIG A 13 3 3600 20261209000000 20261125000000 4711 other.test. AAAA"),
		sigs(sigA, "www.other.test. 300 IN RRSIG AAAA 13 3 3600 20261209000000 20261125000000 4711 other.test. AAAA"),
		nil,
	} {
		if err := c.PutSigs(bad, data); err == nil {
			t.Errorf("PutSigs(%v) accepted", bad)
		}
	}
}

// TestRdataKey: the key of an RRset's data ignores record order, TTLs,
// owner name and class, and tells apart every other difference in the
// data, names in the data spelled differently included (as the
// signatures cover them). Records that do not pack get keys of their own.
func TestRdataKey(t *testing.T) {
	t.Parallel()
	key := func(lines ...string) string { return RdataKey(rrs(t, lines...)) }
	same := [][2]string{
		{key("a.test. 300 IN A 192.0.2.1", "a.test. 300 IN A 192.0.2.2"), key("A.TEST. 5 IN A 192.0.2.2", "a.test. 9 IN A 192.0.2.1")},
		{key("a.test. 300 IN NS ns.test."), key("b.test. 300 IN NS ns.test.")},
		{key(), key()},
	}
	for i, p := range same {
		if p[0] != p[1] {
			t.Errorf("same data %d: keys differ", i)
		}
	}
	distinct := []string{
		key("a.test. 300 IN A 192.0.2.1"),
		key("a.test. 300 IN A 192.0.2.2"),
		key("a.test. 300 IN A 192.0.2.1", "a.test. 300 IN A 192.0.2.2"),
		key("a.test. 300 IN NS ns.test."),
		key("a.test. 300 IN NS NS.test."),
		key(`a.test. 300 IN TXT "ab"`),
		key(`a.test. 300 IN TXT "a" "b"`),
		key("a.test. 300 IN MX 10 mx.test."),
		key("a.test. 300 IN MX 10 mx.test.", "a.test. 300 IN MX 20 mx.test."),
		RdataKey([]dns.RR{&dns.RRSIG{Hdr: dns.RR_Header{Name: "a.test.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET},
			TypeCovered: dns.TypeA, SignerName: "test.", Signature: "not base64!"}}), // does not pack
		key(),
	}
	seen := map[string]int{}
	for i, k := range distinct {
		if j, ok := seen[k]; ok {
			t.Errorf("data %d and %d: same key", j, i)
		}
		seen[k] = i
	}
}
