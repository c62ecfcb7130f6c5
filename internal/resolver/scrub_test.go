package resolver

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// TestDedupLikeMiekg: dedup keeps what dns.Dedup keeps, in the same
// order and with the same TTLs (the lowest of each record's repeats), for
// sections of every length around the switch to dns.Dedup.
func TestDedupLikeMiekg(t *testing.T) {
	pool := []string{
		"a.example.test. IN A 192.0.2.1", "a.example.test. IN A 192.0.2.2", "A.Example.test. IN A 192.0.2.1",
		"a.example.test. IN AAAA 2001:db8::1", "b.example.test. IN A 192.0.2.1",
		"a.example.test. IN CNAME b.example.test.", "example.test. IN NS ns1.example.test.",
		"example.test. IN NS ns2.example.test.", `a.example.test. IN TXT "x"`, `a.example.test. IN TXT "X"`,
		"a.example.test. IN RRSIG A 13 3 300 20300101000000 20200101000000 12345 example.test. c2ln",
		"a.example.test. IN RRSIG A 13 3 300 20300101000000 20200101000000 12345 example.test. c2lo",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 5, 12, pairwiseDedupMax, pairwiseDedupMax + 1, 60} {
		for trial := range 50 {
			var a, b []dns.RR
			for range n {
				s := pool[rng.IntN(len(pool))]
				ttl := 100 + rng.IntN(5)
				a = append(a, mustRR(t, s))
				a[len(a)-1].Header().Ttl = uint32(ttl)
				b = append(b, dns.Copy(a[len(a)-1]))
			}
			got, want := dedup(a), dns.Dedup(b, nil)
			if !slices.EqualFunc(got, want, func(x, y dns.RR) bool { return x.String() == y.String() }) {
				t.Fatalf("n=%d trial %d:\ngot  %v\nwant %v", n, trial, got, want)
			}
		}
	}
}

// TestScrubDropsRepeats: a record a server sends twice is kept once,
// with the lower TTL.
func TestScrubDropsRepeats(t *testing.T) {
	rrs := []dns.RR{
		mustRR(t, "A.example.test. 300 IN A 192.0.2.1"),
		mustRR(t, "a.example.test. 300 IN A 192.0.2.2"),
		mustRR(t, "a.EXAMPLE.test. 60 IN A 192.0.2.1"),
	}
	got := scrub(rrs, "example.test.")
	if len(got) != 2 || got[0].Header().Ttl != 60 || got[0].Header().Name != "a.example.test." {
		t.Errorf("scrub = %v, want a.example.test. 60 A 192.0.2.1 and 192.0.2.2", got)
	}
}
