package testbed_test

import (
	"context"
	"fmt"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
	"github.com/rensa-dns/rensa/internal/transport"
)

// Start the default hierarchy and ask the root server about a name: it
// refers the asker to the servers of test.
func ExampleStart() {
	ctx := context.Background()
	tb, err := testbed.Start(ctx, testbed.Config{Port: testbed.PortFree})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tb.Close()

	q := new(dns.Msg)
	q.SetQuestion("www.example.test.", dns.TypeA)
	q.RecursionDesired = false
	root := &transport.Do53{Addr: "127.53.0.1:53", Dial: tb.Dial}
	reply, err := root.Exchange(ctx, q)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, rr := range reply.Ns {
		fmt.Println(rr.(*dns.NS).Ns)
	}
	// Output:
	// ns1.nic.test.
	// ns2.nic.test.
}
