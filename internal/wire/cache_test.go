package wire

import (
	"fmt"
	"sync"
	"testing"
)

// entry is a cache entry for tests: octets and a fixed overhead.
type entry struct{ reply []byte }

const entryOverhead = 100

func (e *entry) Cost() int { return len(e.reply) + entryOverhead }

// TestCacheGetPutRemove checks the map behind the shards: an entry put is
// got back under its key, replaced by a later Put and gone after Remove.
func TestCacheGetPutRemove(t *testing.T) {
	t.Parallel()
	c := NewCache[*entry](1 << 20)
	a, b := &entry{reply: []byte("a")}, &entry{reply: []byte("b")}
	if _, ok := c.Get(1, []byte("k")); ok {
		t.Fatal("an empty cache has an entry")
	}
	c.Put(1, "k", a)
	if e, ok := c.Get(1, []byte("k")); !ok || e != a {
		t.Fatalf("Get = %v %v, want the entry put", e, ok)
	}
	c.Put(1, "k", b)
	if e, _ := c.Get(1, []byte("k")); e != b {
		t.Fatal("Put did not replace the entry")
	}
	if n, bytes := c.Size(); n != 1 || bytes != len("k")+b.Cost() {
		t.Errorf("Size = %d, %d; want 1, %d", n, bytes, len("k")+b.Cost())
	}
	c.Remove(1, []byte("k"))
	c.Remove(1, []byte("absent"))
	if n, bytes := c.Size(); n != 0 || bytes != 0 {
		t.Errorf("after Remove: Size = %d, %d", n, bytes)
	}
}

// TestCacheBound checks the budget: a shard that would go over its share
// is emptied first, so the cache never holds more.
func TestCacheBound(t *testing.T) {
	t.Parallel()
	const maxBytes = 64 << 20
	c := NewCache[*entry](maxBytes)
	shardBytes := maxBytes / shards
	reply := make([]byte, 60000)
	for i := range 5 * shardBytes / len(reply) {
		c.Put(7, fmt.Sprintf("key%d", i), &entry{reply: reply})
		if _, b := c.Size(); b > shardBytes {
			t.Fatalf("after %d entries the shard holds %d octets, budget %d", i+1, b, shardBytes)
		}
	}
	n, b := c.Size()
	if n == 0 || b == 0 {
		t.Fatalf("cache empty after puts: %d entries, %d octets", n, b)
	}
	c.Put(7, "key0", &entry{reply: reply[:10]})
	c.Put(7, "key0", &entry{reply: reply[:10]})
	if _, b2 := c.Size(); b2 > b+2*(10+4+entryOverhead) {
		t.Errorf("replacing an entry counted it twice: %d octets after, %d before", b2, b)
	}
	if shards*c.shardBytes > maxBytes {
		t.Errorf("%d shards of %d octets exceed the %d bound", shards, c.shardBytes, maxBytes)
	}
}

// TestCacheGetAllocs checks that a hit allocates nothing: the fast paths'
// zero-allocation guarantee rests on it.
func TestCacheGetAllocs(t *testing.T) {
	c := NewCache[*entry](1 << 20)
	key := []byte("\x00\x01\x00\x03www\x07example")
	c.Put(42, string(key), &entry{reply: []byte("reply")})
	if n := testing.AllocsPerRun(100, func() {
		if _, ok := c.Get(42, key); !ok {
			t.Fatal("miss")
		}
	}); n != 0 {
		t.Errorf("%.0f allocations per Get", n)
	}
}

// TestCacheConcurrent gets, puts and removes from several goroutines, for
// the race detector.
func TestCacheConcurrent(t *testing.T) {
	t.Parallel()
	c := NewCache[*entry](1 << 16)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				key := fmt.Sprintf("k%d", (g+i)%50)
				h := uint64((g + i) % 50)
				switch i % 3 {
				case 0:
					c.Put(h, key, &entry{reply: make([]byte, i%300)})
				case 1:
					c.Get(h, []byte(key))
				case 2:
					c.Remove(h, []byte(key))
				}
			}
		})
	}
	wg.Wait()
	if _, b := c.Size(); b > 1<<16 {
		t.Errorf("%d octets cached, budget %d", b, 1<<16)
	}
}

// TestCacheProbeRuns puts many keys into one shard, some sharing a hash,
// removes every third and checks that each key left is still found and
// each removed one is gone: growth and backward-shift deletion keep the
// probe runs whole.
func TestCacheProbeRuns(t *testing.T) {
	t.Parallel()
	c := NewCache[*entry](1 << 30)
	const n = 3000
	hash := func(i int) uint64 { return uint64(i/3) * shards } // one shard, three keys per hash
	entries := make([]*entry, n)
	for i := range n {
		entries[i] = &entry{reply: []byte{byte(i)}}
		c.Put(hash(i), fmt.Sprintf("k%d", i), entries[i])
	}
	for i := 0; i < n; i += 3 {
		c.Remove(hash(i), []byte(fmt.Sprintf("k%d", i)))
	}
	for i := range n {
		e, ok := c.Get(hash(i), []byte(fmt.Sprintf("k%d", i)))
		switch {
		case i%3 == 0 && ok:
			t.Fatalf("k%d found after Remove", i)
		case i%3 != 0 && (!ok || e != entries[i]):
			t.Fatalf("k%d: Get = %v, %v; want its entry", i, e, ok)
		}
	}
	if got, _ := c.Size(); got != n-n/3 {
		t.Errorf("Size = %d entries, want %d", got, n-n/3)
	}
}

// TestCacheReadersNeverSeeAnotherKeysEntry gets while writers put, replace
// and remove keys sharing hashes, moving records around the table: a Get
// may miss a key being moved, but whatever it returns is the entry of the
// key asked. Under -race it also checks that the lock-free reads are
// atomic.
func TestCacheReadersNeverSeeAnotherKeysEntry(t *testing.T) {
	t.Parallel()
	c := NewCache[*entry](1 << 16) // small: shards are emptied too
	const keys = 200
	hash := func(k int) uint64 { return uint64(k%7) * shards } // one shard, many collisions
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for i := range 5000 {
				k := (i*7 + g) % keys
				key := fmt.Sprintf("k%d", k)
				if i%4 == 3 {
					c.Remove(hash(k), []byte(key))
				} else {
					c.Put(hash(k), key, &entry{reply: []byte(key)})
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for i := range 20000 {
				key := fmt.Sprintf("k%d", i%keys)
				if e, ok := c.Get(hash(i%keys), []byte(key)); ok && string(e.reply) != key {
					t.Errorf("Get(%s) returned the entry of %s", key, e.reply)
					return
				}
			}
		})
	}
	wg.Wait()
}
