package server_test

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/transport"
)

// ExampleServer_ListenTLS serves one handler over DNS over TLS, HTTPS and QUIC with a
// self-signed certificate, and asks each listener once, trusting the CA SelfSigned wrote.
func ExampleServer_ListenTLS() {
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
			A:   net.IPv4(192, 0, 2, 1),
		})
		w.WriteMsg(m)
	})
	dir, err := os.MkdirTemp("", "rensa-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	certFile, keyFile, caFile, err := server.SelfSigned(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	certs, err := server.LoadCertSource(certFile, keyFile) // certs.Reload() on SIGHUP
	if err != nil {
		fmt.Println(err)
		return
	}

	srv, err := server.New(server.Config{Handler: handler})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())
	dot, err := srv.ListenTLS("127.0.0.1:0", certs.TLSConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	doh, err := srv.ListenHTTPS("127.0.0.1:0", "/dns-query", certs.TLSConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	doq, err := srv.ListenQUIC("127.0.0.1:0", certs.TLSConfig())
	if err != nil {
		fmt.Println(err)
		return
	}

	q := new(dns.Msg)
	q.SetQuestion("www.example.test.", dns.TypeA)
	for _, ex := range []transport.Exchanger{
		&transport.DoT{Addr: dot.String(), CAFile: caFile},
		&transport.DoH{URL: "https://" + doh.String() + "/dns-query", CAFile: caFile},
		&transport.DoQ{Addr: doq.String(), CAFile: caFile},
	} {
		reply, err := ex.Exchange(context.Background(), q)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%T: %s %s\n", ex, dns.RcodeToString[reply.Rcode], reply.Answer[0].(*dns.A).A)
	}
	// Output:
	// *transport.DoT: NOERROR 192.0.2.1
	// *transport.DoH: NOERROR 192.0.2.1
	// *transport.DoQ: NOERROR 192.0.2.1
}
