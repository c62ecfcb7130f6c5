package cache_test

import (
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/cache"
)

func Example() {
	now := time.Unix(1700000000, 0)
	c := cache.New(cache.Config{Now: func() time.Time { return now }})
	rr, _ := dns.NewRR("www.example.test. 300 IN A 192.0.2.10")
	c.Put([]dns.RR{rr}, cache.RankAnswerAuth)

	// An address from some reply's additional section cannot replace it.
	forged, _ := dns.NewRR("www.example.test. 300 IN A 203.0.113.66")
	err := c.Put([]dns.RR{forged}, cache.RankAdditional)
	fmt.Println(err != nil)

	now = now.Add(100 * time.Second)
	res := c.Get("www.example.test.", dns.TypeA, dns.ClassINET)
	fmt.Println(res.Kind, res.RRs[0])
	// Output:
	// true
	// Positive www.example.test.	200	IN	A	192.0.2.10
}
