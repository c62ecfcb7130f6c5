package resolver

import (
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkServeDNSCacheHit measures a client query answered from the
// cache, the resolver's hot path (scripts/bench-resolver.sh measures it
// over the network against Unbound).
func BenchmarkServeDNSCacheHit(b *testing.B) {
	r, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	rr, _ := dns.NewRR("www.example.test. 3600 IN A 192.0.2.1")
	if err := r.cache.Put([]dns.RR{rr}, 0); err != nil {
		b.Fatal(err)
	}
	q := new(dns.Msg)
	q.SetQuestion("www.example.test.", dns.TypeA)
	q.SetEdns0(1232, false)
	w := &recorder{network: "udp"}
	b.ReportAllocs()
	for b.Loop() {
		r.ServeDNS(w, q)
		if len(w.msg.Answer) != 1 {
			b.Fatal(w.msg)
		}
	}
}
