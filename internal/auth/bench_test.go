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
	const names = 10000
	var zb strings.Builder
	zb.WriteString("@ SOA ns.bench. admin.bench. 1 7200 3600 1209600 300\n@ NS ns.bench.\nns A 192.0.2.53\n")
	zb.WriteString("*.wild TXT \"wild\"\nsub NS ns.sub\nns.sub A 192.0.2.54\n")
	for i := range names {
		fmt.Fprintf(&zb, "h%d A 192.0.2.%d\nh%d AAAA 2001:db8::%x\nc%d CNAME h%d\n", i, i%256, i, i, i, i)
	}
	s := newServer(b, Config{}, dnstest.Zone(b, "bench.", zb.String()))
	for _, bc := range []struct {
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
	} {
		qs := make([]*dns.Msg, 1024)
		for i := range qs {
			qs[i] = ask(b, bc.q(i*9%names))
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
