package resolver

import (
	"testing"

	"github.com/miekg/dns"
)

// TestWithSignatures: an Insecure answer is served as resolved, with the
// RRSIGs the Validator fetched for its RRsets added (a DO client gets
// them, as from Unbound: deckard val_nsec3_b4_wild, val_nsec3_optout_ad);
// signatures of other data, and other records, are not added, and none
// twice.
func TestWithSignatures(t *testing.T) {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := rr("a.wild.example. 3600 IN A 192.0.2.1")
	sigA := rr("a.wild.example. 3600 IN RRSIG A 13 2 3600 20300101000000 20200101000000 1 example. AAAA")
	sigMX := rr("a.wild.example. 3600 IN RRSIG MX 13 2 3600 20300101000000 20200101000000 1 example. AAAA")
	other := rr("evil.example. 3600 IN A 203.0.113.66")
	sigOther := rr("evil.example. 3600 IN RRSIG A 13 2 3600 20300101000000 20200101000000 1 example. AAAA")
	got := withSignatures([]dns.RR{a}, []dns.RR{a, sigA, sigMX, other, sigOther})
	if len(got) != 2 || got[0] != a || !dns.IsDuplicate(got[1], sigA) {
		t.Errorf("got %v, want the A record and its RRSIG", got)
	}
	if again := withSignatures(got, []dns.RR{sigA}); len(again) != 2 {
		t.Errorf("a signature present is added again: %v", again)
	}
	if none := withSignatures([]dns.RR{a}, nil); len(none) != 1 {
		t.Errorf("nothing fetched: %v", none)
	}
}
