package wire

import "sync"

// Entry is what a Cache holds: a reply and whatever its fast path patches
// into it. Entries are never changed once cached.
type Entry interface {
	// Cost is what the entry counts against the cache's budget, its key
	// aside: its octets and an allowance for the map slot and headers.
	Cost() int
}

// Cache maps keys (Query.Key) to entries, in octets bounded by the budget
// given to NewCache. It is split into shards, each independently locked
// and with an equal share of the budget; a shard about to go over its
// share is emptied before the next entry goes in. Under a flood of
// distinct names that costs hits, never memory. The key's hash, from one
// maphash.Seed per cache or fast path, is the caller's, so that it is
// computed once for the cache and its Doorkeeper. A Cache is safe for
// concurrent use, and Get allocates nothing.
type Cache[E Entry] struct {
	shardBytes int
	shards     [shards]shard[E]
}

// shard is one independently locked part of a Cache.
type shard[E Entry] struct {
	mu      sync.RWMutex // guards entries and bytes
	entries map[string]E // by Query.Key
	bytes   int          // what entries cost, keys included
	_       [64]byte     // keeps the next shard's lock off this cache line
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
func (c *Cache[E]) Get(h uint64, key []byte) (E, bool) {
	sh := &c.shards[h%shards]
	sh.mu.RLock()
	e, ok := sh.entries[string(key)] // no allocation: the conversion is only for the lookup
	sh.mu.RUnlock()
	return e, ok
}

// Put stores e under key, whose hash is h, in place of any entry there.
// When the shard's budget would be exceeded, the shard is emptied first.
func (c *Cache[E]) Put(h uint64, key string, e E) {
	n := cost(key, e)
	sh := &c.shards[h%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.entries[key]; ok {
		sh.bytes -= cost(key, old)
	}
	if sh.entries == nil || sh.bytes+n > c.shardBytes {
		sh.entries, sh.bytes = make(map[string]E), 0
	}
	sh.entries[key] = e
	sh.bytes += n
}

// Remove drops the entry for key, whose hash is h, if there is one.
func (c *Cache[E]) Remove(h uint64, key []byte) {
	sh := &c.shards[h%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.entries[string(key)]; ok {
		sh.bytes -= cost(string(key), old)
		delete(sh.entries, string(key))
	}
}

// Size returns the number of entries and what they cost, keys included.
func (c *Cache[E]) Size() (entries, bytes int) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		entries += len(sh.entries)
		bytes += sh.bytes
		sh.mu.RUnlock()
	}
	return entries, bytes
}
