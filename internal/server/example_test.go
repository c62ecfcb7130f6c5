package server_test

import (
	"context"
	"fmt"
	"net"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/server"
)

// maxUDPReply is the UDP reply size this example's handler allows (LIMITS.md: 1232).
const maxUDPReply = 1232

// Example serves a handler on a free loopback port over UDP and TCP, asks it one
// question, and shuts it down. The handler shows how to find the transport: over UDP it
// truncates its reply to what the client can take, setting TC so the client retries over
// TCP; the server itself never truncates.
func Example() {
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
			A:   net.IPv4(192, 0, 2, 1),
		})
		if t, ok := w.(interface{ Network() string }); ok && t.Network() == "udp" {
			size := dns.MinMsgSize
			if opt := r.IsEdns0(); opt != nil {
				size = min(max(int(opt.UDPSize()), dns.MinMsgSize), maxUDPReply)
			}
			m.Truncate(size)
		}
		w.WriteMsg(m)
	})

	srv, err := server.New(server.Config{Handler: handler})
	if err != nil {
		fmt.Println(err)
		return
	}
	udpAddr, _, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	q := new(dns.Msg)
	q.SetQuestion("www.example.test.", dns.TypeA)
	reply, err := dns.Exchange(q, udpAddr.String())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(dns.RcodeToString[reply.Rcode], reply.Answer[0].(*dns.A).A)
	// Output: NOERROR 192.0.2.1
}
