package ratelimit_test

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/ratelimit"
)

// A flood of one question from one /24 within one second: five answers,
// then drops, every second drop slipping out as a TC=1 reply.
func ExampleNew() {
	now := time.Unix(1700000000, 0)
	rrl, limiter, err := ratelimit.New(ratelimit.Config{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	engine := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)}}
		_ = w.WriteMsg(m)
	})
	h := rrl(engine)
	var got []string
	for i := range 9 {
		rec := dnstest.NewRecorder("udp")
		rec.Remote = &net.UDPAddr{IP: net.IPv4(198, 51, 100, byte(i)), Port: 53}
		h.ServeDNS(rec, dnstest.Query("example.com.", dns.TypeA))
		switch {
		case rec.Msg == nil:
			got = append(got, "drop")
		case rec.Msg.Truncated:
			got = append(got, "TC")
		default:
			got = append(got, "answer")
		}
	}
	fmt.Println(strings.Join(got, " "))
	fmt.Printf("%+v\n", limiter.Stats())
	// Output:
	// answer answer answer answer answer drop TC drop TC
	// {Answered:5 Dropped:2 Slipped:2 Exempt:0 Entries:1}
}

// Classify shows the key a response is accounted under.
func ExampleClassify() {
	m := new(dns.Msg)
	m.SetQuestion("Nope.Example.COM.", dns.TypeA)
	m.Rcode = dns.RcodeNameError
	soa, _ := dns.NewRR("example.com. 3600 IN SOA ns.example.com. host.example.com. 1 7200 3600 1209600 3600")
	m.Ns = []dns.RR{soa}
	k := ratelimit.Classify(m)
	fmt.Println(k.Class, k.Name)
	// Output: nxdomain example.com.
}
