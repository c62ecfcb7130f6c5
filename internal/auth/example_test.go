package auth_test

import (
	"fmt"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/zone"
)

func ExampleServer_Answer() {
	var records []zone.Record
	for _, text := range []string{
		"example. 3600 IN SOA ns.example. admin.example. 1 7200 3600 1209600 300",
		"example. 3600 IN NS  ns.example.",
		"www.example. 3600 IN A 192.0.2.1",
		"*.example. 3600 IN TXT \"wild\"",
	} {
		rr, err := dns.NewRR(text)
		if err != nil {
			panic(err)
		}
		records = append(records, zone.Record{RR: rr})
	}
	srv, err := auth.New(auth.Config{Zones: zone.NewSet(zone.New("example.", records))})
	if err != nil {
		panic(err)
	}

	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"WWW.example.", dns.TypeA},     // the answer keeps the case asked
		{"any.example.", dns.TypeTXT},   // synthesised from the wildcard
		{"www.example.", dns.TypeMX},    // NODATA: SOA with the negative TTL
		{"www.example.org.", dns.TypeA}, // not our zone
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		reply := srv.Answer(m, "udp")
		fmt.Printf("%s %s: %s aa=%v\n", q.name, dns.TypeToString[q.qtype], dns.RcodeToString[reply.Rcode], reply.Authoritative)
		for _, rr := range append(reply.Answer, reply.Ns...) {
			fmt.Println("  ", rr)
		}
	}
	// Output:
	// WWW.example. A: NOERROR aa=true
	//    WWW.example.	3600	IN	A	192.0.2.1
	// any.example. TXT: NOERROR aa=true
	//    any.example.	3600	IN	TXT	"wild"
	// www.example. MX: NOERROR aa=true
	//    example.	300	IN	SOA	ns.example. admin.example. 1 7200 3600 1209600 300
	// www.example.org. A: REFUSED aa=false
}
