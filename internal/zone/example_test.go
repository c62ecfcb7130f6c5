package zone_test

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// Example loads a zone from text, checks it and looks names up.
func Example() {
	const text = `$TTL 3600
@	IN SOA	ns1 hostmaster 2024010101 7200 3600 1209600 3600
	IN NS	ns1
ns1	IN A	192.0.2.1
www	IN CNAME ns1
www	IN TXT	"CNAME and other data: an error"
*.dev	IN A	192.0.2.9
sub	IN NS	ns.sub
`
	z, err := zone.Parse(strings.NewReader(text), "example.test.", "db.example.test", zone.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range z.Check() {
		fmt.Println(f)
	}
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"ns1.example.test.", dns.TypeA},
		{"ns1.example.test.", dns.TypeAAAA},
		{"app.dev.example.test.", dns.TypeA},
		{"host.sub.example.test.", dns.TypeA},
		{"nothere.example.test.", dns.TypeA},
	} {
		r := z.Lookup(q.name, q.qtype)
		fmt.Printf("%s %s: %s (wildcard %v)\n", q.name, dns.TypeToString[q.qtype], r.Kind, r.Wildcard)
	}
	// Output:
	// db.example.test:6: error: CNAME and other data at www.example.test. (TXT; RFC 1034 §3.6.2, RFC 2181 §10.1)
	// db.example.test:8: warning: sub.example.test. NS ns.sub.example.test. is below the delegation to sub.example.test. and has no glue address records (A or AAAA)
	// ns1.example.test. A: Success (wildcard false)
	// ns1.example.test. AAAA: NoData (wildcard false)
	// app.dev.example.test. A: Success (wildcard true)
	// host.sub.example.test. A: Delegation (wildcard false)
	// nothere.example.test. A: NameError (wildcard false)
}

// ExampleParse_error shows a syntax error with its file and line.
func ExampleParse_error() {
	_, err := zone.Parse(strings.NewReader("$TTL 60\n@ IN SOA ns1 hostmaster 1 2 3 4 5\nwww IN A 192.0.2.256\n"),
		"example.test.", "db.example.test", zone.LoadOptions{})
	fmt.Println(err)
	// Output: db.example.test:3: bad A A: "192.0.2.256"
}
