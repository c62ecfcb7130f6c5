package transport_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/transport"
)

// ExampleDo53_Exchange asks a small server on loopback for an A record.
func ExampleDo53_Exchange() {
	// A server that answers every A query with 192.0.2.1.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(q)
		rr, _ := dns.NewRR(q.Question[0].Name + " 300 IN A 192.0.2.1")
		r.Answer = append(r.Answer, rr)
		w.WriteMsg(r)
	})}
	go srv.ActivateAndServe()
	defer srv.Shutdown()

	q := new(dns.Msg)
	q.SetQuestion("www.example.test.", dns.TypeA)

	ex := &transport.Do53{Addr: pc.LocalAddr().String(), Timeout: time.Second}
	r, err := ex.Exchange(context.Background(), q)
	if err != nil {
		fmt.Println("no reply:", err)
		return
	}
	fmt.Println(dns.RcodeToString[r.Rcode])
	fmt.Println(r.Answer[0])
	// Output:
	// NOERROR
	// www.example.test.	300	IN	A	192.0.2.1
}

// ExampleDo53_ExchangeOutcome shows how an exchange went: here the UDP
// reply is truncated, so the answer comes over TCP.
func ExampleDo53_ExchangeOutcome() {
	handler := func(truncate bool) dns.HandlerFunc {
		return func(w dns.ResponseWriter, q *dns.Msg) {
			r := new(dns.Msg)
			r.SetReply(q)
			r.Truncated = truncate
			w.WriteMsg(r)
		}
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	udp := &dns.Server{PacketConn: pc, Handler: handler(true)}
	tcp := &dns.Server{Listener: l, Handler: handler(false)}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	defer udp.Shutdown()
	defer tcp.Shutdown()

	ex := &transport.Do53{
		Addr: "192.0.2.53:53", // mapped to the loopback servers by Dial
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			target := pc.LocalAddr().String()
			if network == "tcp" {
				target = l.Addr().String()
			}
			return (&net.Dialer{}).DialContext(ctx, network, target)
		},
	}
	q := new(dns.Msg)
	q.SetQuestion("big.example.test.", dns.TypeTXT)
	_, out, err := ex.ExchangeOutcome(context.Background(), q)
	if err != nil {
		fmt.Println("no reply:", err)
		return
	}
	fmt.Printf("truncated over UDP: %v, answered over: %s\n", out.Truncated, out.Network)
	// Output:
	// truncated over UDP: true, answered over: tcp
}
