package dnssec_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/zone"
)

// Example signs a small zone with one Ed25519 combined signing key and an
// NSEC3 chain, prints the DS record for the parent, and verifies the
// result now and after the signatures expire.
func Example() {
	var records []zone.Record
	for _, line := range []string{
		"example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 300",
		"example.test. 3600 IN NS ns1.example.test.",
		"ns1.example.test. 3600 IN A 192.0.2.1",
		"www.example.test. 3600 IN A 192.0.2.80",
	} {
		rr, err := dns.NewRR(line)
		if err != nil {
			panic(err)
		}
		records = append(records, zone.Record{RR: rr})
	}
	z := zone.New("example.test.", records)

	// A seeded source makes the key (and, with Ed25519, the signatures)
	// the same on every run; real keys use crypto/rand.
	seeded := rand.NewChaCha8([32]byte{1})
	csk, err := dnssec.Generate(z.Origin, dns.ED25519, dnssec.FlagsKSK, 0, seeded)
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	signed, err := dnssec.Sign(z, dnssec.SignConfig{
		Keys:  []*dnssec.Key{csk},
		Now:   func() time.Time { return now },
		Rand:  seeded,
		NSEC3: &dnssec.NSEC3Params{}, // RFC 9276: no extra iterations, no salt
	})
	if err != nil {
		panic(err)
	}
	ds, _ := csk.DS(dns.SHA256)
	fmt.Println("DS for the parent:", strings.Join(strings.Fields(ds.String())[3:6], " "), "...")
	fmt.Println("problems now:", len(dnssec.Verify(signed, now)))
	later := dnssec.Verify(signed, now.Add(30*24*time.Hour))
	fmt.Println("a month later:", later[1])
	// Output:
	// DS for the parent: DS 11141 15 ...
	// problems now: 0
	// a month later: example.test. NS: signature expired: expiration 20260315004554 is before 20260331120000
}
