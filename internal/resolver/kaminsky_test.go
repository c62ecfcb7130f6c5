package resolver

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/resolver/cache"
)

// TestKaminskyReply delivers the study guide's Kaminsky reply as a
// perfectly matching reply (right server, ID, question and case: the fake
// network hands it over as the server's own) to 1,000 queries for random
// names under example.test.:
//
//	Question   aaaN.example.test. A
//	Answer     www.example.test. A 203.0.113.66
//	Authority  example.test. NS ns.attacker.test.
//	Additional ns.attacker.test. A 203.0.113.66
//
// and two variants: one that also answers the question itself, and one
// that aims at the glue of the real server name instead. In every trial
// the cached www.example.test. and the example.test. delegation stay
// unchanged, nothing about the attacker is cached, and the next query
// still goes to the real server.
func TestKaminskyReply(t *testing.T) {
	t.Parallel()
	const attacker = "203.0.113.66"
	variants := map[string]func(q dns.Question) (answer, ns, extra []dns.RR){
		"guide": func(q dns.Question) ([]dns.RR, []dns.RR, []dns.RR) {
			return rrs(t, "www.example.test. 86400 IN A "+attacker),
				rrs(t, "example.test. 86400 IN NS ns.attacker.test."),
				rrs(t, "ns.attacker.test. 86400 IN A "+attacker)
		},
		"answers-question": func(q dns.Question) ([]dns.RR, []dns.RR, []dns.RR) {
			return rrs(t, q.Name+" 86400 IN A "+attacker, "www.example.test. 86400 IN A "+attacker),
				rrs(t, "example.test. 86400 IN NS ns.attacker.test."),
				rrs(t, "ns.attacker.test. 86400 IN A "+attacker)
		},
		"in-bailiwick-glue": func(q dns.Question) ([]dns.RR, []dns.RR, []dns.RR) {
			return rrs(t, "www.example.test. 86400 IN A "+attacker),
				rrs(t, "example.test. 86400 IN NS ns1.example.test.", "example.test. 86400 IN NS www.example.test."),
				rrs(t, "ns1.example.test. 86400 IN A "+attacker, "www.example.test. 86400 IN A "+attacker)
		},
	}
	for name, forge := range variants {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFakeWorld(t, "")
			real := f.servers[netip.MustParseAddr("127.53.2.1")]
			f.handle("127.53.2.1", dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
				q := req.Question[0]
				if !strings.HasPrefix(strings.ToLower(q.Name), "aaa") {
					real.ServeDNS(w, req)
					return
				}
				m := new(dns.Msg)
				m.SetReply(req) // same ID, same question in the same case
				m.Authoritative = true
				m.Answer, m.Ns, m.Extra = forge(q)
				w.WriteMsg(m)
			}))
			r := newFakeResolver(t, f, Config{Now: fixedNow}) // TTLs do not move
			if reply := ask(r, "www.example.test.", dns.TypeA); len(reply.Answer) != 1 {
				t.Fatalf("priming: %v", reply)
			}
			before, _ := r.cache.Delegation("example.test.")
			for i := range 1000 {
				qname := fmt.Sprintf("aaa%d.example.test.", i)
				reply := ask(r, qname, dns.TypeA)
				for _, rr := range append(reply.Answer, reply.Ns...) {
					if !strings.EqualFold(rr.Header().Name, qname) {
						t.Fatalf("trial %d: reply carries %s", i, rr)
					}
				}
				www := r.cache.Get("www.example.test.", dns.TypeA, dns.ClassINET)
				if www.Kind != cache.Positive || len(www.RRs) != 1 || www.RRs[0].(*dns.A).A.String() != "192.0.2.10" {
					t.Fatalf("trial %d: cached www.example.test. is %v", i, www.RRs)
				}
				d, ok := r.cache.Delegation("example.test.")
				if !ok || fmt.Sprint(d.NS, d.Glue) != fmt.Sprint(before.NS, before.Glue) {
					// TTLs could differ only if time moved; it does not here.
					t.Fatalf("trial %d: delegation %v %v, was %v %v", i, d.NS, d.Glue, before.NS, before.Glue)
				}
				for _, n := range []string{"ns.attacker.test.", "ns1.example.test."} {
					if res := r.cache.Get(n, dns.TypeA, dns.ClassINET); res.Kind != cache.Miss {
						t.Fatalf("trial %d: %s cached: %v", i, n, res.RRs)
					}
				}
				if res := r.cache.Get("example.test.", dns.TypeNS, dns.ClassINET); res.Kind != cache.Miss {
					t.Fatalf("trial %d: example.test. NS cached as data: %v", i, res.RRs)
				}
			}
			n := len(f.queries())
			if reply := ask(r, "mail.example.test.", dns.TypeA); reply.Rcode != dns.RcodeNameError {
				t.Errorf("after the attack: %v", reply)
			}
			for _, q := range f.queries()[n:] {
				if q.server.String() != "127.53.2.1" {
					t.Errorf("after the attack, asked %s", q.server)
				}
			}
		})
	}
}

func rrs(t *testing.T, lines ...string) []dns.RR {
	var out []dns.RR
	for _, l := range lines {
		out = append(out, dnstest.RR(t, l))
	}
	return out
}

// TestForgedReferralForDS: a DS query goes to the parent; a matching
// reply that "refers" it to the child with new servers must not replace
// the delegation learned before.
func TestForgedReferralForDS(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	real := f.servers[netip.MustParseAddr("127.53.1.1")]
	r := newFakeResolver(t, f, Config{Now: fixedNow}) // TTLs do not move
	ask(r, "www.example.test.", dns.TypeA)
	before, _ := r.cache.Delegation("example.test.")
	f.handle("127.53.1.1", dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		if req.Question[0].Qtype != dns.TypeDS {
			real.ServeDNS(w, req)
			return
		}
		m := new(dns.Msg)
		m.SetReply(req)
		m.Ns = rrs(t, "example.test. 86400 IN NS ns.example.test.")
		m.Extra = rrs(t, "ns.example.test. 86400 IN A 203.0.113.66")
		w.WriteMsg(m)
	}))
	ask(r, "example.test.", dns.TypeDS)
	after, _ := r.cache.Delegation("example.test.")
	if fmt.Sprint(before.NS, before.Glue) != fmt.Sprint(after.NS, after.Glue) {
		t.Errorf("delegation changed: %v %v", after.NS, after.Glue)
	}
}

// fixedNow is a clock that never moves, so cached TTLs compare equal.
func fixedNow() time.Time { return time.Unix(1700000000, 0) }
