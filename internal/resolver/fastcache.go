package resolver

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// fastShardBytes is the budget of one shard (fastCacheMaxBytes).
const fastShardBytes = fastCacheMaxBytes / fastShards

// fastCache is RawHandler's wire cache: the replies ServeDNS sent from the
// RRset cache, by fastQuery.key. FlushWireCache puts a new one in place.
type fastCache struct {
	seed   maphash.Seed
	shards [fastShards]fastShard
	seen   doorkeeper // the keys answered from the RRset cache once
}

// fastShard is one independently locked part of a fastCache.
type fastShard struct {
	mu      sync.RWMutex          // guards entries and bytes
	entries map[string]*fastEntry // by fastQuery.key
	bytes   int                   // what entries cost (fastEntry.cost)
	_       [64]byte              // keeps the next shard's lock off this cache line
}

// fastEntry is one reply as ServeDNS packed it, whole and uncompressed,
// with what RawHandler patches. Entries are never changed once cached.
type fastEntry struct {
	wire []byte
	// names are the offsets of the answer records' owner names that spell
	// the question name (ServeDNS gives them the client's spelling); the
	// question's own is at headerLen.
	names []uint16
	// ttlOffs are the offsets of the TTL of every record but OPT, and
	// ttls the TTLs there at stored.
	ttlOffs []uint16
	ttls    []uint32
	minTTL  uint32
	// stored is Config.Now before the RRset cache was read for the
	// reply, so that the TTLs counted down from it are never too high.
	stored time.Time
}

func newFastCache() *fastCache {
	return &fastCache{seed: maphash.MakeSeed()}
}

// cost is what e, stored under key, counts against its shard's budget.
func (e *fastEntry) cost(key string) int {
	return len(key) + len(e.wire) + 2*len(e.names) + 6*len(e.ttls) + fastEntryOverhead
}

// reply builds the reply to query, parsed into p, in out: the cached
// octets with the query's ID, its spelling of the question name and the
// TTLs less secs.
func (e *fastEntry) reply(query []byte, p *fastQuery, secs uint32, out []byte) []byte {
	out = append(out[:0], e.wire...)
	out[0], out[1] = query[0], query[1]
	name := query[headerLen:p.nameEnd]
	copy(out[headerLen:], name)
	for _, off := range e.names {
		copy(out[off:], name)
	}
	for i, off := range e.ttlOffs {
		binary.BigEndian.PutUint32(out[off:], e.ttls[i]-secs)
	}
	return out
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
// be exceeded, the shard is emptied first: under a flood of distinct
// names it costs hits, not memory (fastCacheMaxBytes).
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

// remove drops the entry for key, whose hash is h, if there is one.
func (c *fastCache) remove(h uint64, key []byte) {
	sh := &c.shards[h%fastShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.entries[string(key)]; ok {
		sh.bytes -= old.cost(string(key))
		delete(sh.entries, string(key))
	}
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

// doorkeeper is a Bloom filter of the keys seen once, cleared every
// fastDoorkeeperPeriod keys (the doorkeeper of TinyLFU, as in the
// authoritative fast path).
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
