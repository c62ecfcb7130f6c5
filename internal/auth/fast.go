package auth

import (
	"hash/maphash"
	"net"
	"sync/atomic"

	"github.com/rensa-dns/rensa/internal/zone"
)

// Limits of the fast path. Like those in limits.go, each one names what it
// stops.
const (
	// fastCacheMaxBytes bounds the memory of the precompiled replies of one
	// FastPath: 64 MiB, counting each entry's key, wire reply and
	// fastEntryOverhead. The cache is split into fastShards shards of equal
	// budget; a shard that is full is emptied before the next entry goes
	// in. Random-subdomain (water torture) queries each make a distinct
	// NXDOMAIN entry; this bound, and admission only on a name's second
	// query (fastDoorkeeperBits), keep them from growing the cache without
	// limit. The cost of such a flood is a lower hit rate, never memory.
	fastCacheMaxBytes = 64 << 20

	// fastEntryOverhead is what one cache entry costs besides its key and
	// reply octets: the map slot, the string and slice headers and the
	// entry itself, rounded up.
	fastEntryOverhead = 128

	// fastShards is how many independently locked parts the cache has, so
	// that UDP workers on several cores rarely touch the same lock.
	fastShards = 64

	// fastDoorkeeperBits is the size of the Bloom filter (two bits per key)
	// that remembers the keys asked once: a key is compiled and cached
	// only when the filter already holds it, on its second query. Names
	// asked once, as in a random-subdomain attack, then cost the fast path
	// a hash and two bit sets, and no entry, but for the filter's false
	// positives (under 5%). 4 Mibit: 512 KiB.
	fastDoorkeeperBits = 1 << 22

	// fastDoorkeeperPeriod is how many keys the doorkeeper takes before it
	// forgets them all, so that its false positives stay rare: one eighth
	// of its bits. A key asked twice within that many cache misses is
	// admitted, which covers working sets larger than the cache holds.
	fastDoorkeeperPeriod = fastDoorkeeperBits / 8
)

// FastPath answers the most common queries from precompiled wire replies,
// without unpacking the query or packing the reply: a
// server.Config.RawHandler for an authoritative Server. Replies are those
// the Server's Answer gives, byte for byte: each is produced by Answer
// once, packed, and kept, keyed by the zone set being served and the
// query's lowercase name, type, EDNS presence and DO bit. A hit costs a
// hash, a map lookup under a read lock and a copy, and allocates nothing.
//
//	engine, err := auth.New(cfg)
//	...
//	fast := auth.NewFastPath(engine)
//	srv, err := server.New(server.Config{Handler: engine, RawHandler: fast.RawHandler})
//
// Queries the fast path does not take (see AnswerRaw) go to the Handler
// as usual. The fast path runs before any dns.Handler middleware, so it
// must not be installed in front of middleware that has to see every
// query (rate limiting, cookies, ACLs). A FastPath is safe for concurrent
// use.
type FastPath struct {
	s    *Server
	seed maphash.Seed
	// cache holds the replies for one zone set; a query that finds the
	// Server serving another set puts a fresh cache in its place, so a
	// reply compiled from old zones is never sent after SetZones.
	cache atomic.Pointer[fastCache]
	// seen is the doorkeeper: the keys that missed the cache once.
	seen doorkeeper
}

// NewFastPath returns a fast path answering for s. It holds no zones of its
// own: it follows s.SetZones.
func NewFastPath(s *Server) *FastPath {
	return &FastPath{s: s, seed: maphash.MakeSeed()}
}

// AnswerRaw answers query, a DNS message in wire form received over
// network ("udp" or "tcp"), from a precompiled reply built in out (its
// capacity reused when large enough; out must not overlap query). It
// reports false, and the query must go to Answer, for anything but the
// plain shape it knows: opcode QUERY, QR=0, one question of class IN and a
// type other than ANY, RRSIG, zone transfers and other meta types, no
// answer or authority records, and at most an OPT record of version 0
// with no options in the additional section. It also reports false for a
// query whose key is not cached yet (the second query for a key compiles
// it), whose precompiled reply does not fit the client's UDP size (the
// engine then drops glue or truncates), or whose name is in a case the
// reply cannot follow (see fastEntry.caseFree).
//
// The reply is the precompiled one with the query's ID, its RD and CD
// flags and its question name as asked, octet for octet.
func (f *FastPath) AnswerRaw(query []byte, network string, out []byte) ([]byte, bool) {
	var p fastQuery
	if !p.parse(query, network, f.s.maxUDP) {
		return nil, false
	}
	set := f.s.zones.Load()
	c := f.cacheFor(set)
	if c == nil {
		return nil, false
	}
	key := p.key[:p.keyLen]
	h := maphash.Bytes(f.seed, key)
	e := c.get(h, key)
	if e == nil {
		if !f.seen.admit(h) {
			return nil, false
		}
		if e = f.compile(set, query, &p); e == nil {
			return nil, false
		}
		c.put(h, string(key), e)
	}
	if !e.suits(&p) {
		return nil, false
	}
	return e.reply(query, &p, out), true
}

// RawHandler is AnswerRaw with the signature of server.Config.RawHandler;
// the client's address plays no part in the reply.
func (f *FastPath) RawHandler(query []byte, network string, _ net.Addr, out []byte) ([]byte, bool) {
	return f.AnswerRaw(query, network, out)
}

// cacheFor returns the cache of replies for set, replacing the current
// cache when it holds replies for another set. It returns nil when
// another goroutine replaced the cache at the same time: the zones are
// being swapped, and the query is better left to the engine.
func (f *FastPath) cacheFor(set *zone.Set) *fastCache {
	c := f.cache.Load()
	if c != nil && c.set == set {
		return c
	}
	fresh := &fastCache{set: set}
	if !f.cache.CompareAndSwap(c, fresh) {
		return nil
	}
	return fresh
}
