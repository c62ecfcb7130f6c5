package auth_test

import (
	"fmt"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/zone"
)

func ExampleFastPath() {
	var records []zone.Record
	for _, text := range []string{
		"example. 3600 IN SOA ns.example. admin.example. 1 7200 3600 1209600 300",
		"example. 3600 IN NS  ns.example.",
		"www.example. 3600 IN A 192.0.2.1",
	} {
		rr, err := dns.NewRR(text)
		if err != nil {
			panic(err)
		}
		records = append(records, zone.Record{RR: rr})
	}
	engine, err := auth.New(auth.Config{Zones: zone.NewSet(zone.New("example.", records))})
	if err != nil {
		panic(err)
	}
	// In a server: server.Config{Handler: engine, RawHandler: fast.RawHandler}.
	fast := auth.NewFastPath(engine)

	out := make([]byte, 0, 512) // the server's reply buffer, reused
	for i, name := range []string{"www.example.", "www.example.", "WWW.Example.", "nx.example."} {
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		q.Id = uint16(i + 1)
		wire, err := q.Pack()
		if err != nil {
			panic(err)
		}
		reply, ok := fast.AnswerRaw(wire, "udp", out)
		if !ok {
			// The server unpacks the query and calls engine.ServeDNS.
			fmt.Printf("%d %s: to the engine\n", q.Id, name)
			continue
		}
		m := new(dns.Msg)
		if err := m.Unpack(reply); err != nil {
			panic(err)
		}
		fmt.Printf("%d %s: %s %v\n", m.Id, name, dns.RcodeToString[m.Rcode], m.Answer)
	}
	// Output:
	// 1 www.example.: to the engine
	// 2 www.example.: NOERROR [www.example.	3600	IN	A	192.0.2.1]
	// 3 WWW.Example.: NOERROR [WWW.Example.	3600	IN	A	192.0.2.1]
	// 4 nx.example.: to the engine
}
