package wire

import (
	"sync"
	"sync/atomic"
)

// Entry is what a Cache holds: a reply and whatever its fast path patches
// into it. Entries are never changed once cached.
type Entry interface {
	// Cost is what the entry counts against the cache's budget, its key
	// aside: its octets and an allowance for the table slot and headers.
	Cost() int
}

// Cache maps keys (Query.Key) to entries, in octets bounded by the budget
// given to NewCache. It is split into shards, each with an equal share of
// the budget; a shard about to go over its share is emptied before the
// next entry goes in. Under a flood of distinct names that costs hits,
// never memory. The key's hash, from one maphash.Seed per cache or fast
// path, is the caller's, so that it is computed once for the cache and its
// Doorkeeper. A Cache is safe for concurrent use, and Get allocates
// nothing.
//
// A hit is bound by memory latency: between two queries the server's
// system calls push the table out of the processor's caches. So Get takes
// no lock: a locked instruction waits for every load before it, so one
// per query would make each query's cache misses wait for the last
// query's. Each shard is one flat open-addressed table (linear probing)
// of cells, each a hash tag and a pointer to an immutable record of key
// and entry, read with atomic loads (plain loads on the processors rensa
// targets); writers hold the shard's mutex and publish each record before
// its tag, and a new table as a whole. A reader racing a writer may miss
// an entry being moved (the query then takes the ordinary path), never
// get a wrong one: it compares the key.
type Cache[E Entry] struct {
	shardBytes int
	shards     [shards]shard[E]
}

// shard is one part of a Cache, with its own writers' lock and table.
type shard[E Entry] struct {
	mu    sync.Mutex               // serialises writers; guards count and bytes
	tab   atomic.Pointer[table[E]] // nil until the first Put
	count int                      // cells in use
	bytes int                      // what the entries cost, keys included
	_     [64]byte                 // keeps the next shard's lock off this cache line
}

// table is an open-addressed table of len(cells) cells, a power of two, at
// most 3/4 full.
type table[E Entry] struct {
	cells []cell[E]
	shift uint // 64 - log2(len(cells)): home takes a hash's top bits
}

// cell is one slot of a table: 16 octets, four to a cache line.
type cell[E Entry] struct {
	tag atomic.Uint64 // tagOf the key's hash; 0 for a free cell
	rec atomic.Pointer[record[E]]
}

// record is a key and its entry, never changed once published.
type record[E Entry] struct {
	key string
	e   E
}

// fibonacci is 2^64 divided by the golden ratio: multiplying a hash by it
// spreads its bits into the top ones, which home takes (Knuth's
// multiplicative hashing). The shard is chosen by the hash's low bits,
// so within a shard those are all alike and must not pick the cell.
const fibonacci = 0x9E3779B97F4A7C15

// tagOf is the tag stored for a key of hash h: h with its lowest bit set,
// so that no tag is 0, the mark of a free cell.
func tagOf(h uint64) uint64 { return h | 1 }

// home returns the cell where a key of tag t is looked for first.
func (tb *table[E]) home(t uint64) int { return int((t * fibonacci) >> tb.shift) }

// find returns the cell holding key, of tag t, and its record, or -1. It
// probes at most every cell once, so that a table changing under a reader
// never holds it longer.
func (tb *table[E]) find(t uint64, key string) (int, *record[E]) {
	mask := len(tb.cells) - 1
	i := tb.home(t)
	for range tb.cells {
		c := &tb.cells[i]
		switch c.tag.Load() {
		case 0:
			return -1, nil
		case t:
			if r := c.rec.Load(); r != nil && r.key == key {
				return i, r
			}
		}
		i = (i + 1) & mask
	}
	return -1, nil
}

// NewCache returns an empty cache holding at most maxBytes octets of
// entries and keys, as Entry.Cost counts them.
func NewCache[E Entry](maxBytes int) *Cache[E] {
	return &Cache[E]{shardBytes: maxBytes / shards}
}

// cost is what e, stored under key, counts against its shard's budget.
func cost[E Entry](key string, e E) int {
	return len(key) + e.Cost()
}

// Get returns the entry for key, whose hash is h.
func (c *Cache[E]) Get(h uint64, key []byte) (e E, ok bool) {
	tb := c.shards[h%shards].tab.Load()
	if tb == nil {
		return e, false
	}
	if _, r := tb.find(tagOf(h), string(key)); r != nil { // no allocation: the conversion is only for the comparison
		return r.e, true
	}
	return e, false
}

// Put stores e under key, whose hash is h, in place of any entry there.
// When the shard's budget would be exceeded, the shard is emptied first.
func (c *Cache[E]) Put(h uint64, key string, e E) {
	n, t := cost(key, e), tagOf(h)
	sh := &c.shards[h%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	tb := sh.tab.Load()
	if tb != nil {
		if i, old := tb.find(t, key); old != nil {
			sh.bytes -= cost(key, old.e)
			if sh.bytes+n <= c.shardBytes {
				tb.cells[i].rec.Store(&record[E]{key: key, e: e}) // readers see the old record or the new
				sh.bytes += n
				return
			}
			tb.remove(i)
			sh.count--
		}
	}
	switch {
	case tb == nil || sh.bytes+n > c.shardBytes:
		tb = newTable[E](minShardSlots)
		sh.count, sh.bytes = 0, 0
		sh.tab.Store(tb)
	case (sh.count+1)*4 > len(tb.cells)*3:
		tb = tb.grown()
		sh.tab.Store(tb)
	}
	tb.insert(t, &record[E]{key: key, e: e})
	sh.count++
	sh.bytes += n
}

func newTable[E Entry](size int) *table[E] {
	return &table[E]{cells: make([]cell[E], size), shift: 64 - log2(size)}
}

// insert puts r, of tag t, in the first free cell from its home: its
// record first, so that a reader finding the tag finds the record. The
// key must not be in the table, which must have a free cell.
func (tb *table[E]) insert(t uint64, r *record[E]) {
	mask := len(tb.cells) - 1
	i := tb.home(t)
	for tb.cells[i].tag.Load() != 0 {
		i = (i + 1) & mask
	}
	tb.cells[i].rec.Store(r)
	tb.cells[i].tag.Store(t)
}

// grown returns a table twice the size with tb's records, for the shard
// to publish in tb's place.
func (tb *table[E]) grown() *table[E] {
	g := newTable[E](2 * len(tb.cells))
	for i := range tb.cells {
		if t := tb.cells[i].tag.Load(); t != 0 {
			g.insert(t, tb.cells[i].rec.Load())
		}
	}
	return g
}

// remove frees cell i and moves later cells of its probe run back, so
// that no lookup stops at the hole (backward-shift deletion: the table
// needs no tombstones).
func (tb *table[E]) remove(i int) {
	mask := len(tb.cells) - 1
	for j := (i + 1) & mask; tb.cells[j].tag.Load() != 0; j = (j + 1) & mask {
		// The record at j may move to the hole at i unless its home lies
		// cyclically in (i, j]: then it would come before its home.
		t := tb.cells[j].tag.Load()
		if home := tb.home(t); (j-home)&mask >= (j-i)&mask {
			tb.cells[i].rec.Store(tb.cells[j].rec.Load())
			tb.cells[i].tag.Store(t)
			i = j
		}
	}
	tb.cells[i].tag.Store(0)
	tb.cells[i].rec.Store(nil)
}

// log2 returns the base-2 logarithm of n, a power of two.
func log2(n int) uint {
	var b uint
	for n > 1 {
		n >>= 1
		b++
	}
	return b
}

// Remove drops the entry for key, whose hash is h, if there is one.
func (c *Cache[E]) Remove(h uint64, key []byte) {
	sh := &c.shards[h%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	tb := sh.tab.Load()
	if tb == nil {
		return
	}
	if i, old := tb.find(tagOf(h), string(key)); old != nil {
		sh.bytes -= cost(old.key, old.e)
		tb.remove(i)
		sh.count--
	}
}

// Size returns the number of entries and what they cost, keys included.
func (c *Cache[E]) Size() (entries, bytes int) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		entries += sh.count
		bytes += sh.bytes
		sh.mu.Unlock()
	}
	return entries, bytes
}
