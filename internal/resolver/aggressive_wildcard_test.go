package resolver

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// wildcardTestbed starts the signed testbed, whose example.test. (NSEC)
// holds *.wild.example.test. A and TXT and exists.wild.example.test. TXT,
// on a clock fixed at start.
func wildcardTestbed(t *testing.T, start time.Time) *testbed.Testbed {
	t.Helper()
	tb, err := testbed.Start(context.Background(), testbed.Config{Zones: signedZones(), Signed: true, Port: testbed.PortFree,
		Now: func() time.Time { return start }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	return tb
}

// askAuthority asks example.test.'s first server for name and qtype with
// DO, as the resolver would, and returns its reply.
func askAuthority(t *testing.T, tb *testbed.Testbed, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(udpSize, true)
	reply, err := do53Exchange(tb.Dial, netip.AddrPort{}, false)(context.Background(), netip.MustParseAddrPort("127.53.2.1:53"), m, true)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

// withoutTTL returns rrs as sorted strings with their TTLs zeroed.
func withoutTTL(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Ttl = 0
		out = append(out, strings.ToLower(c.String()))
	}
	slices.Sort(out)
	return out
}

// sameSection reports whether the resolver's and the authority's
// records of a section match but for the TTLs.
func sameSection(t *testing.T, what string, got, want []dns.RR) {
	t.Helper()
	if g, w := withoutTTL(got), withoutTTL(want); !slices.Equal(g, w) {
		t.Errorf("%s:\n got %v\nwant %v", what, g, w)
	}
}

// minTTL returns the least TTL of rrs.
func minTTL(rrs ...[]dns.RR) uint32 {
	ttl := ^uint32(0)
	for _, set := range rrs {
		for _, rr := range set {
			ttl = min(ttl, rr.Header().Ttl)
		}
	}
	return ttl
}

// TestAggressiveWildcard checks RFC 8198 §5.4 on the signed testbed.
// After one validated answer expanded from *.wild.example.test. (whose
// NSEC exists.wild -> wildcert proves the name absent), other names that
// NSEC covers are answered from the wildcard with no upstream query:
// Secure, owned by the name, the wildcard's RRSIG (labels 3) and the NSEC
// in the authority section for DO, every TTL the least time left, and the
// same records as the authoritative server gives for that name.
func TestAggressiveWildcard(t *testing.T) {
	t.Parallel()
	start := time.Now().Truncate(time.Second)
	tb := wildcardTestbed(t, start)
	clock := &testClock{t: start}
	r, sends := aggressiveResolver(t, tb, clock, false)

	first := askAD(r, "first.wild.example.test.", dns.TypeA)
	if first.Rcode != dns.RcodeSuccess || !first.AuthenticatedData || !hasRRType(first.Answer, dns.TypeA) {
		t.Fatalf("first wildcard answer: rcode %s AD %v answer %v", dns.RcodeToString[first.Rcode], first.AuthenticatedData, first.Answer)
	}
	clock.Advance(10 * time.Second)
	for _, name := range []string{"rnd-1.wild.example.test.", "zz-top.wild.example.test.", "x.y.wild.example.test."} {
		before := sends.Load()
		m := askAD(r, name, dns.TypeA)
		if n := sends.Load() - before; n != 0 {
			t.Errorf("%s: %d upstream sends, want 0", name, n)
		}
		if m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
			t.Errorf("%s: rcode %s AD %v", name, dns.RcodeToString[m.Rcode], m.AuthenticatedData)
		}
		up := askAuthority(t, tb, name, dns.TypeA)
		sameSection(t, name+" answer", m.Answer, up.Answer)
		sameSection(t, name+" authority", m.Ns, up.Ns)
		for _, rr := range m.Answer {
			if rr.Header().Name != name {
				t.Errorf("%s: owner %s", name, rr.Header().Name)
			}
			if sig, ok := rr.(*dns.RRSIG); ok && sig.Labels != 3 {
				t.Errorf("%s: RRSIG labels %d, want 3 (the wildcard's)", name, sig.Labels)
			}
		}
		if !hasRRType(m.Answer, dns.TypeRRSIG) || !hasRRType(m.Ns, dns.TypeNSEC) {
			t.Errorf("%s: no RRSIG in the answer or no NSEC in the authority: %v %v", name, m.Answer, m.Ns)
		}
		want := minTTL(up.Answer, up.Ns) - 10
		for _, rr := range append(m.Answer, m.Ns...) {
			if rr.Header().Ttl != want {
				t.Errorf("%s: TTL %d, want %d (the least of the wildcard's and the NSEC's, 10 s on): %v", name, rr.Header().Ttl, want, rr)
			}
		}
	}

	// A client without DO gets the answer with AD and no DNSSEC records.
	q := new(dns.Msg)
	q.SetQuestion("plain.wild.example.test.", dns.TypeA)
	q.AuthenticatedData = true
	w := &recorder{network: "tcp"}
	before := sends.Load()
	r.ServeDNS(w, q)
	if m := w.msg; sends.Load() != before || !m.AuthenticatedData || len(m.Answer) != 1 || len(m.Ns) != 0 {
		t.Errorf("no DO: %d sends, AD %v answer %v authority %v", sends.Load()-before, m.AuthenticatedData, m.Answer, m.Ns)
	}

	// Names that exist, or whose closest encloser is not wild.example.test.,
	// are asked upstream.
	// (wilda. is then proven NXDOMAIN by the NSEC records x.wilda.'s
	// denial brought: from the cache, but not from the wildcard.)
	for _, c := range []struct {
		name     string
		qtype    uint16
		rcode    int
		upstream bool
	}{
		{"exists.wild.example.test.", dns.TypeTXT, dns.RcodeSuccess, true},
		{"x.wilda.example.test.", dns.TypeA, dns.RcodeNameError, true},
		{"wilda.example.test.", dns.TypeA, dns.RcodeNameError, false},
	} {
		before := sends.Load()
		m := askAD(r, c.name, c.qtype)
		if c.upstream && sends.Load() == before {
			t.Errorf("%s %s: answered without asking upstream", c.name, dns.TypeToString[c.qtype])
		}
		if m.Rcode != c.rcode || !m.AuthenticatedData || hasRRType(m.Answer, dns.TypeA) {
			t.Errorf("%s: rcode %s AD %v answer %v", c.name, dns.RcodeToString[m.Rcode], m.AuthenticatedData, m.Answer)
		}
	}

	// Once the NSEC's TTL (300 s) has passed, upstream again (the NSEC
	// came again with x.wilda.'s denial, 10 s in).
	clock.Advance(301 * time.Second)
	before = sends.Load()
	if m := askAD(r, "late.wild.example.test.", dns.TypeA); m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
		t.Errorf("after the TTL: rcode %s AD %v", dns.RcodeToString[m.Rcode], m.AuthenticatedData)
	}
	if sends.Load() == before {
		t.Error("after the TTL: answered from an expired wildcard proof")
	}
}

// TestAggressiveWildcardNoData: a type the wildcard lacks gets the
// wildcard NODATA from the cache only once the wildcard's own NSEC is
// known to lack it (from one upstream wildcard NODATA); a type the
// wildcard has but the cache lacks is asked upstream, once.
func TestAggressiveWildcardNoData(t *testing.T) {
	t.Parallel()
	start := time.Now().Truncate(time.Second)
	tb := wildcardTestbed(t, start)
	clock := &testClock{t: start}
	r, sends := aggressiveResolver(t, tb, clock, false)

	// The A answer teaches the covering NSEC, not the wildcard's own.
	askAD(r, "first.wild.example.test.", dns.TypeA)
	before := sends.Load()
	if m := askAD(r, "mx1.wild.example.test.", dns.TypeMX); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || !m.AuthenticatedData {
		t.Fatalf("first wildcard NODATA: rcode %s AD %v answer %v", dns.RcodeToString[m.Rcode], m.AuthenticatedData, m.Answer)
	}
	if sends.Load() == before {
		t.Fatal("wildcard NODATA answered before the wildcard's NSEC was known")
	}
	before = sends.Load()
	m := askAD(r, "mx2.wild.example.test.", dns.TypeMX)
	if n := sends.Load() - before; n != 0 {
		t.Errorf("second wildcard NODATA: %d upstream sends, want 0", n)
	}
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || !m.AuthenticatedData {
		t.Errorf("second wildcard NODATA: rcode %s AD %v answer %v", dns.RcodeToString[m.Rcode], m.AuthenticatedData, m.Answer)
	}
	up := askAuthority(t, tb, "mx2.wild.example.test.", dns.TypeMX)
	sameSection(t, "wildcard NODATA authority", m.Ns, up.Ns)

	// TXT: the wildcard's NSEC lists it, the cache lacks it: upstream,
	// then from the cache.
	before = sends.Load()
	if m := askAD(r, "txt1.wild.example.test.", dns.TypeTXT); !hasRRType(m.Answer, dns.TypeTXT) || sends.Load() == before {
		t.Errorf("TXT the wildcard has: %d sends, answer %v", sends.Load()-before, m.Answer)
	}
	before = sends.Load()
	if m := askAD(r, "txt2.wild.example.test.", dns.TypeTXT); !hasRRType(m.Answer, dns.TypeTXT) || sends.Load() != before {
		t.Errorf("second TXT: %d sends, answer %v", sends.Load()-before, m.Answer)
	}
}

// TestAggressiveWildcardNotUnvalidated: a wildcard answer fetched with CD
// (unvalidated), or with aggressive use off, teaches nothing: the next
// name is asked upstream.
func TestAggressiveWildcardNotUnvalidated(t *testing.T) {
	t.Parallel()
	start := time.Now().Truncate(time.Second)
	tb := wildcardTestbed(t, start)
	for _, off := range []bool{false, true} {
		clock := &testClock{t: start}
		r, sends := aggressiveResolver(t, tb, clock, off)
		first := "cd.wild.example.test."
		if off {
			askAD(r, first, dns.TypeA)
		} else {
			q := new(dns.Msg)
			q.SetQuestion(first, dns.TypeA)
			q.SetEdns0(4096, true)
			q.CheckingDisabled = true
			r.ServeDNS(&recorder{network: "tcp"}, q)
		}
		before := sends.Load()
		if m := askAD(r, "next.wild.example.test.", dns.TypeA); m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
			t.Errorf("off %v: rcode %s AD %v", off, dns.RcodeToString[m.Rcode], m.AuthenticatedData)
		}
		if sends.Load() == before {
			t.Errorf("off %v: answered from a wildcard that was not validated and kept", off)
		}
	}
}

// TestAggressiveWildcardNSEC3: with example.test. signed with NSEC3, a
// validated answer from *.wild.example.test. keeps the wildcard and the
// NSEC3 covering the name's hash. Another name whose hash that NSEC3
// covers is answered from them with no upstream query, as the
// authoritative server answers it; a name whose hash it does not cover
// is asked upstream.
func TestAggressiveWildcardNSEC3(t *testing.T) {
	t.Parallel()
	start := time.Now().Truncate(time.Second)
	specs := signedZones()
	for i := range specs {
		if specs[i].Origin == "example.test." {
			specs[i].NSEC3 = true
		}
	}
	tb, err := testbed.Start(context.Background(), testbed.Config{Zones: specs, Signed: true, Port: testbed.PortFree,
		Now: func() time.Time { return start }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	clock := &testClock{t: start}
	r, sends := aggressiveResolver(t, tb, clock, false)

	const first = "first.wild.example.test."
	if m := askAD(r, first, dns.TypeA); m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData || !hasRRType(m.Ns, dns.TypeNSEC3) {
		t.Fatalf("first wildcard answer: rcode %s AD %v authority %v", dns.RcodeToString[m.Rcode], m.AuthenticatedData, m.Ns)
	}
	var span *dns.NSEC3
	for _, rr := range askAuthority(t, tb, first, dns.TypeA).Ns {
		if n, ok := rr.(*dns.NSEC3); ok && n.Cover(first) {
			span = n
		}
	}
	if span == nil {
		t.Fatal("no NSEC3 covering the first name's hash")
	}
	var inside, outside string
	for i := 0; i < 200000 && (inside == "" || outside == ""); i++ {
		name := fmt.Sprintf("n%d.wild.example.test.", i)
		if span.Cover(name) {
			inside = cmp.Or(inside, name)
		} else {
			outside = cmp.Or(outside, name)
		}
	}
	if inside == "" {
		t.Fatal("no name found whose hash the NSEC3 covers")
	}
	before := sends.Load()
	m := askAD(r, inside, dns.TypeA)
	if n := sends.Load() - before; n != 0 {
		t.Errorf("%s: %d upstream sends, want 0", inside, n)
	}
	if m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
		t.Errorf("%s: rcode %s AD %v", inside, dns.RcodeToString[m.Rcode], m.AuthenticatedData)
	}
	up := askAuthority(t, tb, inside, dns.TypeA)
	sameSection(t, inside+" answer", m.Answer, up.Answer)
	sameSection(t, inside+" authority", m.Ns, up.Ns)

	before = sends.Load()
	if m := askAD(r, outside, dns.TypeA); m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
		t.Errorf("%s: rcode %s AD %v", outside, dns.RcodeToString[m.Rcode], m.AuthenticatedData)
	}
	if sends.Load() == before {
		t.Errorf("%s: answered without asking upstream, its hash outside the kept NSEC3", outside)
	}
}
