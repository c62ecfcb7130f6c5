package resolver

import (
	"encoding/binary"
	"hash/maphash"
	"time"

	"github.com/rensa-dns/rensa/internal/wire"
)

// fastCache is RawHandler's wire cache: the replies ServeDNS sent from the
// RRset cache, by fastQuery.Key. FlushWireCache puts a new one in place.
type fastCache struct {
	seed    maphash.Seed
	entries *wire.Cache[*fastEntry]
	seen    wire.Doorkeeper // the keys answered from the RRset cache once
}

// fastEntry is one reply as ServeDNS packed it, whole and uncompressed,
// with what RawHandler patches. Entries are never changed once cached.
type fastEntry struct {
	wire []byte
	// names are the offsets of the answer records' owner names that spell
	// the question name (ServeDNS gives them the client's spelling); the
	// question's own is at wire.HeaderLen.
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
	return &fastCache{seed: maphash.MakeSeed(), entries: wire.NewCache[*fastEntry](fastCacheMaxBytes)}
}

// Cost is what e counts against the cache's budget besides its key.
func (e *fastEntry) Cost() int {
	return len(e.wire) + 2*len(e.names) + 6*len(e.ttls) + fastEntryOverhead
}

// reply builds the reply to query, parsed into p, in out: the cached
// octets with the query's ID, its spelling of the question name and the
// TTLs less secs.
func (e *fastEntry) reply(query []byte, p *fastQuery, secs uint32, out []byte) []byte {
	out = append(out[:0], e.wire...)
	out[0], out[1] = query[0], query[1]
	name := query[wire.HeaderLen:p.NameEnd]
	copy(out[wire.HeaderLen:], name)
	for _, off := range e.names {
		copy(out[off:], name)
	}
	for i, off := range e.ttlOffs {
		binary.BigEndian.PutUint32(out[off:], e.ttls[i]-secs)
	}
	return out
}
