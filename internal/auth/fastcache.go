package auth

import (
	"unsafe"

	"github.com/rensa-dns/rensa/internal/ratelimit"
	"github.com/rensa-dns/rensa/internal/wire"
	"github.com/rensa-dns/rensa/internal/zone"
)

// fastCache holds the precompiled replies for one zone set. It is never
// emptied as a whole: a new zone set gets a new fastCache.
type fastCache struct {
	set     *zone.Set
	entries *wire.Cache[fastEntry] // by fastQuery.Key
}

func newFastCache(set *zone.Set) *fastCache {
	return &fastCache{set: set, entries: wire.NewCache[fastEntry](fastCacheMaxBytes)}
}

// fastEntry is one precompiled reply: what Answer gives over TCP for the
// query with the key's name in lowercase, packed, with ID 0 and RD and CD
// clear. Entries are never changed once cached.
//
// A hit is bound by memory latency, not by instructions: the server's
// system calls between two queries push the cache out of the processor's
// caches. So an entry is small and kept by value in the cache's record,
// beside its key, and its reply octets follow the key's in one buffer
// (adopt); a hit then touches the table's cell, the record, and the key
// and reply, and no entry elsewhere.
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
	// of the reply), the same for every case of the name; nil when wire
	// is. It is read only when the fast path has a Limiter.
	rrl *ratelimit.Key
}

// adopt moves e's reply into a new buffer right after a copy of key, and
// returns that copy as a string sharing the buffer (neither part is ever
// changed): the key comparison of a hit then brings in the reply's first
// octets too.
func (e *fastEntry) adopt(key []byte) string {
	buf := make([]byte, 0, len(key)+len(e.wire))
	buf = append(append(buf, key...), e.wire...)
	if e.wire != nil {
		e.wire = buf[len(key):len(buf):len(buf)]
	}
	return unsafe.String(unsafe.SliceData(buf), len(key))
}

// Cost is what e counts against the cache's budget besides its key.
func (e fastEntry) Cost() int {
	n := len(e.wire) + fastEntryOverhead
	if e.rrl != nil {
		n += len(e.rrl.Name)
	}
	return n
}

// suits reports whether the entry answers the query p: it has a reply,
// the reply fits the client's size limit, and the name is in lowercase or
// the reply follows any case.
func (e *fastEntry) suits(p *fastQuery) bool {
	return e.wire != nil && e.fit <= p.limit && (!p.Upper || e.caseFree)
}

// reply builds the reply to query in out: the precompiled octets, then
// the query's ID, its RD and CD flags, and its question name as asked
// (the same length as the cached one: only the case can differ).
func (e *fastEntry) reply(query []byte, p *fastQuery, out []byte) []byte {
	out = append(out[:0], e.wire...)
	out[0], out[1] = query[0], query[1]
	out[2] |= query[2] & wire.RD
	out[3] |= query[3] & wire.CD
	copy(out[wire.HeaderLen:p.NameEnd], query[wire.HeaderLen:p.NameEnd])
	return out
}
