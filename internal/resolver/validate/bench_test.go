package validate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
)

// benchNames is how many distinct signed names BenchmarkValidateAnswer
// validates before it starts again with a fresh validator: each answer
// is validated once, as each name of the resolver benchmark's distinct
// list is (scripts/bench-resolver.sh, n1..n1000.zbulk.example.test.).
const benchNames = 1000

// BenchmarkValidateAnswer measures one validated cache-miss answer: the
// validator already holds the proven keys of the root, test. and
// example.test. (the chain is cached), and each iteration proves a
// fresh A RRset with its own RRSIG (ECDSAP256SHA256), as the resolver
// does for each distinct name of issue #5's benchmark. The replies are
// the authoritative server's, built before the timer starts; the fetch
// returns them as they are. Profile it with
//
//	go test -run XX -bench ValidateAnswer -cpuprofile cpu.out ./internal/resolver/validate
func BenchmarkValidateAnswer(b *testing.B) {
	w, names, replies := bulkWorld(b, benchNames)
	now := signTime.Add(24 * time.Hour)
	ctx := context.Background()
	warm := func() *Validator {
		v := w.validator(now)
		q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
		if vd := v.Validate(ctx, q, w.fetch); vd.Security != Secure {
			b.Fatalf("warming the chain: %v %v", vd.Security, vd.EDE)
		}
		return v
	}
	fetch := func(_ context.Context, name string, qtype uint16) (*dns.Msg, error) {
		if m, ok := replies[name]; ok && qtype == dns.TypeA {
			return m, nil
		}
		return nil, fmt.Errorf("benchmark: %s %s is not an answer of the bulk zone: the chain should be cached", name, dns.TypeToString[qtype])
	}
	v, i := warm(), 0
	b.ReportAllocs()
	for b.Loop() {
		if i == len(names) {
			b.StopTimer()
			v, i = warm(), 0
			b.StartTimer()
		}
		q := dns.Question{Name: names[i], Qtype: dns.TypeA, Qclass: dns.ClassINET}
		if vd := v.Validate(ctx, q, fetch); vd.Security != Secure {
			b.Fatalf("%s: %v %v", names[i], vd.Security, vd.EDE)
		}
		i++
	}
}

// bulkWorld is the root, test. and example.test., signed, with n names
// nK.zbulk.example.test. of an A record each, like the testbed's; it
// returns the names and the authoritative replies to their A queries
// with DO.
func bulkWorld(b *testing.B, n int) (*world, []string, map[string]*dns.Msg) {
	b.Helper()
	var ex strings.Builder
	ex.WriteString("$TTL 3600\n@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\nns A 192.0.2.5\nwww A 192.0.2.10\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&ex, "n%d.zbulk A 198.51.100.7\n", i)
	}
	test := "$TTL 3600\n@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\nns A 192.0.2.2\nexample NS ns.example\nns.example A 192.0.2.5\n"
	w := newWorld(b,
		zspec{origin: ".", text: rootZone},
		zspec{origin: "test.", text: test},
		zspec{origin: "example.test.", text: ex.String()})
	names := make([]string, n)
	replies := make(map[string]*dns.Msg, n)
	for i := range names {
		names[i] = fmt.Sprintf("n%d.zbulk.example.test.", i+1)
		m := dnstest.EDNS(dnstest.Query(names[i], dns.TypeA), 4096, true)
		m.RecursionDesired = false
		replies[names[i]] = dnstest.Exchange(b, w.servers["example.test."], m, "udp")
	}
	return w, names, replies
}
