package dnssec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/zone"
)

// benchZone is a zone of n names shaped like scripts/bench-sign.sh's: one
// A record per name, and every hundredth name a delegation with glue and
// a DS.
func benchZone(b *testing.B, n int) *zone.Zone {
	b.Helper()
	var t strings.Builder
	t.WriteString("@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 127.0.0.1\n")
	for i := 1; i <= n; i++ {
		if i%100 == 0 {
			fmt.Fprintf(&t, "d%d NS ns.d%d\nns.d%d A 192.0.2.%d\nd%d DS 12345 13 2 %064d\n", i, i, i, i%250+1, i, i)
		} else {
			fmt.Fprintf(&t, "h%d A 192.0.2.%d\n", i, i%250+1)
		}
	}
	return dnstest.Zone(b, "bench.test.", t.String())
}

// BenchmarkSign signs a 10,000-name zone with an ECDSAP256SHA256 KSK and
// ZSK and NSEC3 with the RFC 9276 parameters, as the signing benchmark
// (scripts/bench-sign.sh, ten times larger) does. Profile it with
//
//	go test -run XX -bench Sign -cpuprofile cpu.out ./internal/dnssec
func BenchmarkSign(b *testing.B) {
	z := benchZone(b, 10000)
	keys := testKeys(b, "bench.test.", dns.ECDSAP256SHA256, false)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(z, SignConfig{Keys: keys, Now: fixedNow, NSEC3: &NSEC3Params{}}); err != nil {
			b.Fatal(err)
		}
	}
}
