package resolver

import (
	"hash/maphash"
	"net"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/wire"
)

// Limits of the wire cache behind RawHandler. Like those in limits.go,
// each one names what it stops; the cache's shards and doorkeeper are
// wire's (internal/wire).
const (
	// fastCacheMaxBytes bounds the memory of the wire replies RawHandler
	// serves: 32 MiB, counting each entry's key, reply, offsets and
	// fastEntryOverhead. The cache is split into shards of equal budget
	// (wire.Cache); a shard that is full is emptied before the next entry
	// goes in. A flood of distinct names (random subdomains) costs hits,
	// never memory; admission on a key's second slow-path cache hit
	// (wire.Doorkeeper) keeps names asked once out altogether.
	fastCacheMaxBytes = 32 << 20

	// fastEntryOverhead is what one entry costs besides its key, reply
	// and offsets: the map slot, headers and the entry itself, rounded up.
	fastEntryOverhead = 160

	// fastMaxAge is the longest a wire reply is served before the slow
	// path builds it again from the RRset cache. The wire cache does not
	// see the RRset cache replace or evict an entry (a higher-ranked
	// RRset, a new NXDOMAIN for the name, LRU eviction), so this bounds
	// how long a reply may lag behind the cache: the data it serves was
	// valid when cached, with TTLs counted down, but a change reaches
	// clients at most this late. Failures (RFC 9520) drop the question's
	// replies at once (forgetWire).
	fastMaxAge = 5 * time.Second
)

// RawHandler answers a query in wire form from the wire cache, with the
// signature of server.Config.RawHandler: it copies the reply the slow path
// (ServeDNS) gave an identical query from the RRset cache and patches the
// ID, the question name's case (in the question and in the answer owners
// that spell it) and every record's TTL, counted down by the seconds
// elapsed since (Config.Now). It allocates nothing.
//
//	res, err := resolver.New(cfg)
//	...
//	srv, err := server.New(server.Config{Handler: res, RawHandler: res.RawHandler})
//
// It reports ok=false, and the query goes to ServeDNS, for anything but a
// plain UDP query from a client in Config.Allow: opcode QUERY with RD set
// and CD clear, one question of class IN and an ordinary type, no answer
// or authority records, at most an OPT record of version 0 with no
// options and no flag but DO; and for a query with no live wire reply.
// ServeDNS fills the wire cache when it answers such a query straight from
// the RRset cache (no failure remembered; CNAME chains followed in the
// cache only without a Validator; with a Validator, only a Secure or
// Insecure verdict on the question's own RRset), the second time in a
// while it does so for the same name, type, EDNS presence, DO and AD bits
// (the key), and only with a reply that it sent whole and uncompressed: a
// client whose size limit that reply exceeds goes to ServeDNS. A reply is
// served until any TTL in it would reach zero, or for fastMaxAge at most.
// The first call switches the wire cache on; with Config.Trace set it
// declines every query, so that each one is traced.
//
// Queries over TCP, DoT, DoH and DoQ always go to ServeDNS: the server
// adds options (keepalive, padding) to those replies. RawHandler runs
// before any dns.Handler middleware wrapped around the Resolver: a server
// with such middleware must not use it, or must apply the middleware's
// policy itself.
func (r *Resolver) RawHandler(query []byte, network string, remote net.Addr, out []byte) ([]byte, bool) {
	c := r.wireCache()
	if c == nil || network != "udp" || !r.allowed(remote) {
		return nil, false
	}
	var p fastQuery
	if !p.parse(query) {
		return nil, false
	}
	key := p.Key[:p.KeyLen]
	e, ok := c.entries.Get(maphash.Bytes(c.seed, key), key)
	if !ok || len(e.wire) > p.limit {
		return nil, false
	}
	elapsed := r.cfg.Now().Sub(e.stored)
	if elapsed < 0 || elapsed >= fastMaxAge {
		return nil, false
	}
	// Rounded up, so that a TTL served is never more than the RRset
	// cache's own (it rounds the time left up from when it was read,
	// which was before e.stored).
	secs := uint32((elapsed + time.Second - 1) / time.Second)
	if secs >= e.minTTL {
		return nil, false
	}
	return e.reply(query, &p, secs, out), true
}

// FlushWireCache empties the wire cache of RawHandler, for a reload
// (SIGHUP) or anything else that must not be answered from replies built
// before it. The RRset cache is unchanged.
func (r *Resolver) FlushWireCache() {
	if c := r.fast.Load(); c != nil {
		r.fast.CompareAndSwap(c, newFastCache())
	}
}

// wireCache returns the wire cache, creating it on the first call from
// RawHandler.
func (r *Resolver) wireCache() *fastCache {
	if r.cfg.Trace != nil {
		return nil
	}
	if c := r.fast.Load(); c != nil {
		return c
	}
	r.fast.CompareAndSwap(nil, newFastCache())
	return r.fast.Load()
}

// fillWire keeps resp, the reply ServeDNS sends over UDP to req, answered
// from the RRset cache as read at start, for RawHandler: when the wire
// cache is on, the reply is one RawHandler can reproduce (see
// RawHandler), and the key was seen before (the doorkeeper).
func (r *Resolver) fillWire(req, resp *dns.Msg, start time.Time, sec validate.Security) {
	c := r.fast.Load()
	if c == nil || start.IsZero() || resp.Truncated || resp.Compress ||
		r.cfg.Validator != nil && sec != validate.Secure && sec != validate.Insecure {
		return
	}
	var p fastQuery
	if !p.fromMsg(req) {
		return
	}
	key := p.Key[:p.KeyLen]
	h := maphash.Bytes(c.seed, key)
	if !c.seen.Admit(h) {
		return
	}
	packed, err := resp.Pack()
	if err != nil {
		return
	}
	if e := compileWire(packed, p.NameEnd, start); e != nil {
		c.entries.Put(h, string(key), e)
	}
}

// forgetWire drops the wire replies to question, in every key variant:
// its resolution just failed (RFC 9520), and the slow path now answers it
// from the failure cache.
func (r *Resolver) forgetWire(question dns.Question) {
	c := r.fast.Load()
	if c == nil {
		return
	}
	var q wire.Query
	if !q.SetKey(dns.Fqdn(question.Name), question.Qtype, 0) {
		return
	}
	key := q.Key[:q.KeyLen]
	for flags := range byte(keyFlagsAll + 1) {
		key[2] = flags
		c.entries.Remove(maphash.Bytes(c.seed, key), key)
	}
}

// fastCachePointer is the Resolver's handle on its wire cache: nil until
// RawHandler is first called.
type fastCachePointer = atomic.Pointer[fastCache]
