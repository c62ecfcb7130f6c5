package cookie_test

import (
	"fmt"
	"net/netip"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/cookie"
	"github.com/rensa-dns/rensa/internal/dnstest"
)

// Wrap an engine in the cookie middleware; the reply carries the client's
// cookie and a fresh Server Cookie.
func ExampleNew() {
	mw, err := cookie.New(cookie.Config{Secret: [16]byte{1, 2, 3}})
	if err != nil {
		panic(err)
	}
	engine := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.SetEdns0(1232, false)
		_ = w.WriteMsg(m)
	})
	h := mw(engine)

	q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeA), 1232, false,
		cookie.Option{Client: [8]byte{0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57}}.EDNS0())
	rec := dnstest.NewRecorder("udp")
	h.ServeDNS(rec, q)
	o, _, _ := cookie.FromMsg(rec.Msg)
	fmt.Printf("client %x, server cookie %d bytes, version %d\n", o.Client, len(o.Server), o.Server[0])
	// Output: client 2464c4abcf10c957, server cookie 16 bytes, version 1
}

// A resolver prepares each query with the jar and checks each reply.
func ExampleClientJar() {
	jar, err := cookie.NewClientJar(cookie.ClientConfig{Secret: [16]byte{9}})
	if err != nil {
		panic(err)
	}
	server := netip.MustParseAddr("192.0.2.53")
	q := new(dns.Msg)
	q.SetQuestion("example.com.", dns.TypeA)
	jar.Prepare(q, server)

	// A forged reply echoing another client cookie is rejected.
	forged := new(dns.Msg)
	forged.SetReply(q)
	forged.Extra = []dns.RR{&dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 1232},
		Option: []dns.EDNS0{cookie.Option{Client: [8]byte{1}}.EDNS0()}}}
	fmt.Println(jar.Check(forged, server))
	// Output: cookie: reply has the wrong client cookie
}
