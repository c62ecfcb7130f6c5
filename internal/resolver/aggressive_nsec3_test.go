package resolver

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/cache"
)

// TestAggressiveNSEC3 checks RFC 8198 §5.2 on the testbed's NSEC3 zone
// other.test.: after one validated NXDOMAIN (nx1.other.test.: the apex
// matches, nx1's hash and the wildcard's are covered), a name below nx1
// (same closest encloser proof) is answered NXDOMAIN with AD and the
// NSEC3 proof, and a type missing from the apex's NSEC3 NODATA, with no
// upstream query; a name needing more than maxAggressiveHashes hashes is
// asked upstream.
func TestAggressiveNSEC3(t *testing.T) {
	t.Parallel()
	r, sends := startAggressive(t)
	if m := askAD(r, "nx1.other.test.", dns.TypeA); m.Rcode != dns.RcodeNameError || !m.AuthenticatedData {
		t.Fatalf("first NXDOMAIN: rcode %s AD %v", dns.RcodeToString[m.Rcode], m.AuthenticatedData)
	}
	if r.nsec3.Len("other.test.") == 0 {
		t.Fatal("no NSEC3 records kept after a Secure NXDOMAIN")
	}
	expectCachedDenials(t, r, sends, dns.TypeNSEC3, []cachedDenial{
		{"deep.nx1.other.test.", dns.TypeA, dns.RcodeNameError},
		{"x.y.nx1.other.test.", dns.TypeTXT, dns.RcodeNameError},
		{"other.test.", dns.TypeMX, dns.RcodeSuccess},
	})
	deep := strings.Repeat("a.", maxAggressiveHashes) + "nx1.other.test."
	before := sends.Load()
	if m := askAD(r, deep, dns.TypeA); m.Rcode != dns.RcodeNameError || !m.AuthenticatedData {
		t.Errorf("%s: rcode %s AD %v", deep, dns.RcodeToString[m.Rcode], m.AuthenticatedData)
	}
	if sends.Load() == before {
		t.Errorf("%s: proven with more than %d hashes", deep, maxAggressiveHashes)
	}
}

// TestAggressiveNSEC3OptOut: an opt-out NSEC3 record never covers a name
// for aggressive use (its span may hide unsigned delegations), and one
// with other hash parameters than the zone's current ones is not used.
func TestAggressiveNSEC3OptOut(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r := &Resolver{nsec3: cache.NewNSECs(func() time.Time { return now })}
	zone := "example."
	h := &nsec3Hasher{params: &dns.NSEC3{Hash: dns.SHA1}, left: maxAggressiveHashes}
	name := "nope.example."
	hn, _ := h.hash(name)
	set := func(owner, next string, flags uint8, iter uint16) []dns.RR {
		n := &dns.NSEC3{Hdr: dns.RR_Header{Name: owner + "." + zone, Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: 300},
			Hash: dns.SHA1, Flags: flags, Iterations: iter, NextDomain: strings.ToUpper(next), TypeBitMap: []uint16{dns.TypeA}}
		sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: n.Hdr.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300},
			TypeCovered: dns.TypeNSEC3, Labels: 2, Expiration: uint32(now.Add(time.Hour).Unix()), SignerName: zone}
		return []dns.RR{n, sig}
	}
	soa, _ := dns.NewRR("example. 300 IN SOA ns.example. h.example. 1 2 3 4 300")
	// One span from just before the hash to just after it, wrapping.
	before, after := hn[:31]+"0", hn[:31]+"v"
	if before >= hn || after <= hn {
		t.Skipf("hash %s ends in 0 or v", hn)
	}
	for _, c := range []struct {
		flags uint8
		iter  uint16
		want  bool
	}{{0, 0, true}, {1, 0, false}, {0, 5, false}} {
		r.nsec3 = cache.NewNSECs(func() time.Time { return now })
		r.nsec3.Add(zone, []dns.RR{soa}, [][]dns.RR{set(before, after, c.flags, c.iter)}, time.Hour)
		h.left = maxAggressiveHashes
		if _, got := r.covering3(zone, name, h); got != c.want {
			t.Errorf("flags %d iterations %d: covers %v, want %v", c.flags, c.iter, got, c.want)
		}
	}
}
