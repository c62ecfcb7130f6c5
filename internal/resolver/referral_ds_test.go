package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/validate"
)

// nullValidator marks a resolver as validating; it proves nothing.
type nullValidator struct{}

func (nullValidator) Validate(context.Context, dns.Question, validate.Fetch) validate.Verdict {
	return validate.Verdict{Security: validate.Indeterminate}
}

// TestReferralDS: the DS RRset a referral carries (with its RRSIG) is
// kept for the client query, and the Validator's DS fetch gets it when
// the parent's servers answer no DS query, as Unbound takes the DS from
// the referral (deckard val_unsecds_negcache, val_unalgo_ds,
// val_nsec3_b3_optout_negcache). Records outside the bailiwick of the
// zone that referred are not kept.
func TestReferralDS(t *testing.T) {
	net := newFakeNet() // no server answers: every DS query times out
	r, err := New(Config{Hints: Hints{NS: []string{"a.root."}, Addrs: map[string][]netip.Addr{"a.root.": {netip.MustParseAddr("192.0.2.1")}}},
		Exchange: net.exchange, Validator: nullValidator{}})
	if err != nil {
		t.Fatal(err)
	}
	r.attemptTime = 0
	rr := func(s string) dns.RR {
		x, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	b := &budget{active: map[qkey]bool{}}
	q := r.newQuery(b, "www.sub.example.", dns.TypeA, dns.ClassINET, 0)
	q.zone = "example."
	q.reply = &dns.Msg{Ns: []dns.RR{
		rr("sub.example. 3600 IN NS ns.sub.example."),
		rr("sub.example. 3600 IN DS 12345 13 2 " + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"),
		rr("sub.example. 3600 IN RRSIG DS 13 2 3600 20300101000000 20200101000000 1 example. AAAA"),
		rr("evil.org. 3600 IN DS 666 13 2 " + "cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34"),
	}}
	q.keepReferralDS("sub.example.")
	got, err := r.fetchDNSSEC(context.Background(), b, "sub.example.", dns.TypeDS)
	if err != nil {
		t.Fatalf("DS fetch: %v, want the referral's DS", err)
	}
	var ds, sig int
	for _, x := range got.Answer {
		switch x := x.(type) {
		case *dns.DS:
			if x.Hdr.Name != "sub.example." {
				t.Errorf("kept %v", x)
			}
			ds++
		case *dns.RRSIG:
			sig++
		}
	}
	if ds != 1 || sig != 1 || len(got.Ns) != 0 {
		t.Errorf("DS reply %v, want the DS and its RRSIG", got)
	}
	// Another name's DS fetch is not answered from the referral.
	if _, err := r.fetchDNSSEC(context.Background(), b, "other.example.", dns.TypeDS); err == nil {
		t.Error("DS of other.example. fetched from nowhere")
	}
	// At most maxReferralDS are kept per client query.
	for i := 0; len(b.referralDS) < maxReferralDS; i++ {
		b.referralDS[fmt.Sprintf("z%d.example.", i)] = got
	}
	q.reply.Ns[0].Header().Name, q.reply.Ns[1].Header().Name = "late.example.", "late.example."
	q.keepReferralDS("late.example.")
	if len(b.referralDS) != maxReferralDS || b.referralDSFor("late.example.") != nil {
		t.Errorf("%d DS replies kept, more than maxReferralDS (%d)", len(b.referralDS), maxReferralDS)
	}
}

// TestDSQueryAnsweredByReferral: a server that answers the DS query with
// a referral to the name (as a parent answering every name below it with
// the delegation does; deckard world_cz_vutbr_www) gives the Validator
// the DS RRset that referral carries, as the answer of a DS reply.
func TestDSQueryAnsweredByReferral(t *testing.T) {
	net := newFakeNet()
	net.handle("192.0.2.1", dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		for _, s := range []string{
			"sub.example. 3600 IN NS ns.sub.example.",
			"sub.example. 3600 IN DS 12345 13 2 " + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12",
			"sub.example. 3600 IN RRSIG DS 13 2 3600 20300101000000 20200101000000 1 . AAAA",
		} {
			rr, _ := dns.NewRR(s)
			m.Ns = append(m.Ns, rr)
		}
		w.WriteMsg(m)
	}))
	r, err := New(Config{Hints: Hints{NS: []string{"a.root."}, Addrs: map[string][]netip.Addr{"a.root.": {netip.MustParseAddr("192.0.2.1")}}},
		Exchange: net.exchange, Validator: nullValidator{}, No0x20: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.fetchDNSSEC(context.Background(), &budget{active: map[qkey]bool{}}, "sub.example.", dns.TypeDS)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Answer) != 2 || got.Answer[0].Header().Rrtype != dns.TypeDS || hasRRType(got.Ns, dns.TypeNS) {
		t.Errorf("DS reply answer %v authority %v, want the DS and its RRSIG as the answer", got.Answer, got.Ns)
	}
}
