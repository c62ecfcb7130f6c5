package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// signedSet returns a record from presentation format with an RRSIG
// (its signature is not checked here) valid for a day after now.
func signedSet(t *testing.T, text string, now time.Time) []dns.RR {
	t.Helper()
	rr, err := dns.NewRR(text)
	if err != nil {
		t.Fatal(err)
	}
	h := rr.Header()
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: h.Ttl},
		TypeCovered: h.Rrtype, Algorithm: dns.ECDSAP256SHA256, Labels: uint8(dns.CountLabel(h.Name)),
		Expiration: uint32(now.Add(24 * time.Hour).Unix()), Inception: uint32(now.Add(-time.Hour).Unix()),
		KeyTag: 1, SignerName: "example.", Signature: "AAAA"}
	return []dns.RR{rr, sig}
}

// TestNSECsFindAndCovers stores a zone's spans out of order and finds,
// for each name, the span matching or preceding it in canonical order,
// with Covers saying which names lie strictly inside (the last span wraps
// to the apex).
func TestNSECsFindAndCovers(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	c := NewNSECs(func() time.Time { return now })
	soa := signedSet(t, "example. 3600 IN SOA ns.example. h.example. 1 2 3 4 300", now)
	c.Add("example.", soa, [][]dns.RR{
		signedSet(t, "m.example. 300 IN NSEC z.example. A RRSIG NSEC", now),
		signedSet(t, "example. 300 IN NSEC b.example. SOA NS RRSIG NSEC DNSKEY", now),
		signedSet(t, "z.example. 300 IN NSEC example. A RRSIG NSEC", now),
		signedSet(t, "b.example. 300 IN NSEC m.example. MX RRSIG NSEC", now),
	}, 300*time.Second)
	for _, c2 := range []struct {
		name, owner string
		covers      bool
	}{
		{"example.", "example.", false},
		{"a.example.", "example.", true},
		{"*.example.", "example.", true},
		{"b.example.", "b.example.", false},
		{"x.b.example.", "b.example.", true},
		{"C.example.", "b.example.", true},
		{"n.example.", "m.example.", true},
		{"zz.example.", "z.example.", true},
		{"a.zz.example.", "z.example.", true},
	} {
		s, ok := c.Find("example.", c2.name)
		if !ok || s.Owner != c2.owner || s.Covers(c2.name) != c2.covers {
			t.Errorf("%s: span %s -> %s (ok %v), covers %v; want owner %s covers %v", c2.name, s.Owner, s.Next, ok, s.Covers(c2.name), c2.owner, c2.covers)
		}
	}
	if z, ok := c.Zone("deep.name.example."); !ok || z != "example." {
		t.Errorf("Zone: %q %v", z, ok)
	}
	if _, ok := c.Zone("other."); ok {
		t.Error("Zone found a zone for other.")
	}
	if s, _ := c.Find("example.", "b.example."); !s.Has(dns.TypeMX) || s.Has(dns.TypeA) {
		t.Errorf("b.example. types %v", s.Types)
	}
}

// TestNSECsExpiry uses a span for at most the ttl given (the RFC 9077
// bound), with TTLs counted down, and never after it.
func TestNSECsExpiry(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	c := NewNSECs(func() time.Time { return now })
	soa := signedSet(t, "example. 3600 IN SOA ns.example. h.example. 1 2 3 4 300", now)
	c.Add("example.", soa, [][]dns.RR{signedSet(t, "m.example. 3600 IN NSEC z.example. A RRSIG NSEC", now)}, 120*time.Second)
	now = now.Add(100 * time.Second)
	s, ok := c.Find("example.", "n.example.")
	if !ok {
		t.Fatal("span gone before its TTL")
	}
	for _, rr := range s.RRs {
		if rr.Header().Ttl != 20 {
			t.Errorf("TTL %d, want 20 left: %v", rr.Header().Ttl, rr)
		}
	}
	now = now.Add(20 * time.Second)
	if _, ok := c.Find("example.", "n.example."); ok {
		t.Error("span used after its TTL")
	}
	if _, ok := c.Zone("n.example."); ok {
		t.Error("zone used after its SOA's TTL")
	}
}

// TestNSECsBoundPerZone keeps at most MaxNSECPerZone records of a zone
// however many distinct spans a flood brings, and still finds the newest.
func TestNSECsBoundPerZone(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	c := NewNSECs(func() time.Time { return now })
	soa := signedSet(t, "example. 3600 IN SOA ns.example. h.example. 1 2 3 4 300", now)
	for i := range MaxNSECPerZone + 50 {
		owner := fmt.Sprintf("n%05d.example.", i)
		c.Add("example.", soa, [][]dns.RR{signedSet(t, fmt.Sprintf("%s 300 IN NSEC %s0.%s A RRSIG NSEC", owner, "x", owner), now)}, time.Hour)
		now = now.Add(time.Millisecond)
	}
	if n := c.Len("example."); n != MaxNSECPerZone {
		t.Errorf("%d records kept, want %d", n, MaxNSECPerZone)
	}
	last := fmt.Sprintf("n%05d.example.", MaxNSECPerZone+49)
	if s, ok := c.Find("example.", last); !ok || s.Owner != last {
		t.Errorf("newest span lost: %v %v", s.Owner, ok)
	}
}
