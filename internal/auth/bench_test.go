package auth

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
)

// BenchmarkAnswer measures Answer on a zone of 10,000 names, one query
// shape per sub-benchmark.
func BenchmarkAnswer(b *testing.B) {
	s := benchServer(b)
	for _, bc := range benchShapes {
		qs := make([]*dns.Msg, 1024)
		for i := range qs {
			qs[i] = ask(b, bc.q(i*9%benchNames))
			if bc.edns {
				dnstest.EDNS(qs[i], 1232, true)
			}
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if m := s.Answer(qs[i%len(qs)], "udp"); m == nil {
					b.Fatal("no reply")
				}
				i++
			}
		})
	}
}

// benchNames is how many names the benchmark zone has (of each kind).
const benchNames = 10000

// benchServer serves the benchmark zone bench.: benchNames names with A,
// AAAA and a CNAME each, a wildcard and a delegation.
func benchServer(b *testing.B) *Server {
	var zb strings.Builder
	zb.WriteString("@ SOA ns.bench. admin.bench. 1 7200 3600 1209600 300\n@ NS ns.bench.\nns A 192.0.2.53\n")
	zb.WriteString("*.wild TXT \"wild\"\nsub NS ns.sub\nns.sub A 192.0.2.54\n")
	for i := range benchNames {
		fmt.Fprintf(&zb, "h%d A 192.0.2.%d\nh%d AAAA 2001:db8::%x\nc%d CNAME h%d\n", i, i%256, i, i, i, i)
	}
	return newServer(b, Config{}, dnstest.Zone(b, "bench.", zb.String()))
}

// benchShapes are the query shapes BenchmarkAnswer and BenchmarkAnswerRaw
// measure one by one: q makes the i-th query of a shape.
var benchShapes = []struct {
	name string
	q    func(i int) string
	edns bool
}{
	{"hit", func(i int) string { return fmt.Sprintf("h%d.bench. A", i) }, false},
	{"hit-edns", func(i int) string { return fmt.Sprintf("h%d.bench. A", i) }, true},
	{"hit-mixed-case", func(i int) string { return fmt.Sprintf("H%d.Bench. A", i) }, false},
	{"cname", func(i int) string { return fmt.Sprintf("c%d.bench. A", i) }, false},
	{"nodata", func(i int) string { return fmt.Sprintf("h%d.bench. MX", i) }, false},
	{"nxdomain", func(i int) string { return fmt.Sprintf("x%d.bench. A", i) }, false},
	{"wildcard", func(i int) string { return fmt.Sprintf("w%d.wild.bench. TXT", i) }, false},
	{"referral", func(i int) string { return fmt.Sprintf("h%d.sub.bench. A", i) }, false},
}
