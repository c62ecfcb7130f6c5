package wire_test

import (
	"fmt"
	"hash/maphash"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/wire"
)

// reply is a stored reply in wire form.
type reply struct{ octets []byte }

func (r *reply) Cost() int { return len(r.octets) + 64 }

// A fast path parses the query's shape, looks its key up, and stores a
// reply only for a key its doorkeeper has seen before.
func Example() {
	seed := maphash.MakeSeed()
	cache := wire.NewCache[*reply](1 << 20)
	var seen wire.Doorkeeper

	m := new(dns.Msg)
	m.SetQuestion("WWW.example.", dns.TypeA)
	m.SetEdns0(1232, true)
	query, _ := m.Pack()

	for i := range 3 {
		var q wire.Query
		if !q.Parse(query) {
			fmt.Println("not a shape the fast path answers")
			return
		}
		key := q.Key[:q.KeyLen]
		h := maphash.Bytes(seed, key)
		if _, ok := cache.Get(h, key); ok {
			fmt.Println(i, "hit")
			continue
		}
		if !seen.Admit(h) {
			fmt.Println(i, "miss, first sight: not cached")
			continue
		}
		fmt.Println(i, "miss, seen before: cached")
		cache.Put(h, string(key), &reply{octets: []byte("the packed reply")})
	}
	// Output:
	// 0 miss, first sight: not cached
	// 1 miss, seen before: cached
	// 2 hit
}
