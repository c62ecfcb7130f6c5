package auth

import (
	"sync"
	"sync/atomic"

	"github.com/rensa-dns/rensa/internal/ratelimit"
	"github.com/rensa-dns/rensa/internal/zone"
)

// fastShardBytes is the budget of one shard (fastCacheMaxBytes).
const fastShardBytes = fastCacheMaxBytes / fastShards

// fastCache holds the precompiled replies for one zone set. It is never
// emptied as a whole: a new zone set gets a new fastCache.
type fastCache struct {
	set    *zone.Set
	shards [fastShards]fastShard
}

// fastShard is one independently locked part of a fastCache.
type fastShard struct {
	mu      sync.RWMutex          // guards entries and bytes
	entries map[string]*fastEntry // by fastQuery.key
	bytes   int                   // what entries cost (fastEntryOverhead)
	_       [64]byte              // keeps the next shard's lock off this cache line
}

// fastEntry is one precompiled reply: what Answer gives over TCP for the
// query with the key's name in lowercase, packed, with ID 0 and RD and CD
// clear. Entries are never changed once cached.
type fastEntry struct {
	// wire is the reply; nil when queries with this key must always go
	// to the engine (see compile).
	wire []byte
	// fit is the smallest UDP size limit the reply fits in by the
	// engine's own test (reply.finish, fits): whole, with all its glue.
	// A client with a smaller limit gets the engine's answer instead.
	fit int
	// caseFree is true when the reply suits every case of the name once
	// the question name is copied from the query: the answer's names
	// that follow the client's case are all compression pointers to the
	// question, and nothing else in the reply refers to the question's
	// octets (see caseFree in fastcompile.go). Otherwise only queries
	// with the name in lowercase get this reply.
	caseFree bool
	// rrl is the reply's Response Rate Limiting key (ratelimit.Classify
	// of the reply), the same for every case of the name.
	rrl ratelimit.Key
}

// cost is what e, stored under key, counts against its shard's budget.
func (e *fastEntry) cost(key string) int {
	return len(key) + len(e.wire) + len(e.rrl.Name) + fastEntryOverhead
}

// get returns the entry for key, whose hash is h, or nil.
func (c *fastCache) get(h uint64, key []byte) *fastEntry {
	sh := &c.shards[h%fastShards]
	sh.mu.RLock()
	e := sh.entries[string(key)] // no allocation: the conversion is only for the lookup
	sh.mu.RUnlock()
	return e
}

// put stores e under key, whose hash is h. When the shard's budget would
// be exceeded, the shard is emptied first: simple, and under a flood of
// distinct names it costs hits, not memory (fastCacheMaxBytes).
func (c *fastCache) put(h uint64, key string, e *fastEntry) {
	cost := e.cost(key)
	sh := &c.shards[h%fastShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.entries[key]; ok {
		sh.bytes -= old.cost(key)
	}
	if sh.entries == nil || sh.bytes+cost > fastShardBytes {
		sh.entries, sh.bytes = make(map[string]*fastEntry), 0
	}
	sh.entries[key] = e
	sh.bytes += cost
}

// size returns the number of entries and what they cost, for tests.
func (c *fastCache) size() (entries, bytes int) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		entries += len(sh.entries)
		bytes += sh.bytes
		sh.mu.RUnlock()
	}
	return entries, bytes
}

// suits reports whether the entry answers the query p: it has a reply,
// the reply fits the client's size limit, and the name is in lowercase or
// the reply follows any case.
func (e *fastEntry) suits(p *fastQuery) bool {
	return e.wire != nil && e.fit <= p.limit && (!p.upper || e.caseFree)
}

// reply builds the reply to query in out: the precompiled octets, then
// the query's ID, its RD and CD flags, and its question name as asked
// (the same length as the cached one: only the case can differ).
func (e *fastEntry) reply(query []byte, p *fastQuery, out []byte) []byte {
	out = append(out[:0], e.wire...)
	out[0], out[1] = query[0], query[1]
	out[2] |= query[2] & rdBit
	out[3] |= query[3] & cdBit
	copy(out[headerLen:p.nameEnd], query[headerLen:p.nameEnd])
	return out
}

// doorkeeper is a Bloom filter of the keys that missed the cache, cleared
// every fastDoorkeeperPeriod keys (the doorkeeper of TinyLFU). Unlike a
// table of one key per slot, it never forgets a key because another one
// collided with it, within a period: a working set asked in a fixed
// cycle gets admitted in full.
type doorkeeper struct {
	bits  [fastDoorkeeperBits / 64]atomic.Uint64
	added atomic.Uint64 // keys taken since the start
}

// admit reports whether the key hashing to h was taken before, in this
// period; if not, it takes it now.
func (d *doorkeeper) admit(h uint64) bool {
	i, j := h%fastDoorkeeperBits, (h>>32)%fastDoorkeeperBits
	wi, mi := &d.bits[i/64], uint64(1)<<(i%64)
	wj, mj := &d.bits[j/64], uint64(1)<<(j%64)
	if wi.Load()&mi != 0 && wj.Load()&mj != 0 {
		return true
	}
	wi.Or(mi)
	wj.Or(mj)
	if d.added.Add(1)%fastDoorkeeperPeriod == 0 {
		for k := range d.bits {
			d.bits[k].Store(0)
		}
	}
	return false
}
