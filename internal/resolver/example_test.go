package resolver_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/testbed"
)

// Example resolves names through the testbed, a root -> test. -> leaves
// hierarchy on loopback, exactly as through the Internet.
func Example() {
	ctx := context.Background()
	tb, err := testbed.Start(ctx, testbed.Config{Port: testbed.PortFree})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tb.Close()

	hints, err := resolver.ParseHints(strings.NewReader(tb.RootHints()), "testbed")
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := resolver.New(resolver.Config{Hints: hints, Dial: tb.Dial})
	if err != nil {
		fmt.Println(err)
		return
	}
	res := r.Resolve(ctx, "ext.example.test.", dns.TypeA)
	for _, rr := range res.Answer {
		fmt.Println(rr)
	}
	res = r.Resolve(ctx, "nonexistent.example.test.", dns.TypeA)
	fmt.Println(res.Kind)
	// Output:
	// ext.example.test.	3600	IN	CNAME	www.other.test.
	// www.other.test.	3600	IN	A	192.0.2.20
	// nxdomain
}
