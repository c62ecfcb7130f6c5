package auth

import (
	"hash/maphash"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/rensa-dns/rensa/internal/ratelimit"
	"github.com/rensa-dns/rensa/internal/wire"
	"github.com/rensa-dns/rensa/internal/zone"
)

// Limits of the fast path. Like those in limits.go, each one names what it
// stops; the cache's shards and doorkeeper are wire's (internal/wire).
const (
	// fastCacheMaxBytes bounds the memory of the precompiled replies of one
	// FastPath: 64 MiB, counting each entry's key, wire reply, rate
	// limiting key name and fastEntryOverhead. The cache is split into
	// shards of equal budget; a shard that is full is emptied before the
	// next entry goes in. Random-subdomain (water torture) queries each
	// make a distinct NXDOMAIN entry; this bound, and admission only on a
	// name's second query (wire.Doorkeeper), keep them from growing the
	// cache without limit. The cost of such a flood is a lower hit rate,
	// never memory.
	fastCacheMaxBytes = 64 << 20

	// fastEntryOverhead is what one cache entry costs besides its key,
	// reply and rate limiting key name octets: its record in the cache
	// (the key's header and the entry by value: 64), its share of the
	// cache's table of 16-octet cells at its sparsest, 3/8 full, just
	// after it doubled (43), and the rate limiting key (32), rounded up.
	fastEntryOverhead = 160
)

// FastPath answers the most common queries from precompiled wire replies,
// without unpacking the query or packing the reply: a
// server.Config.RawHandler for an authoritative Server. Replies are those
// the Server's Answer gives, byte for byte: each is produced by Answer
// once, packed, and kept, keyed by the zone set being served and the
// query's lowercase name, type, EDNS presence and DO bit. A hit costs a
// hash, a table lookup without a lock and a copy, and allocates nothing.
//
//	engine, err := auth.New(cfg)
//	...
//	fast := auth.NewFastPath(engine)
//	srv, err := server.New(server.Config{Handler: engine, RawHandler: fast.RawHandler})
//
// Queries the fast path does not take (see AnswerRaw) go to the Handler
// as usual. The fast path runs before any dns.Handler middleware, so a
// server with Response Rate Limiting must give the fast path its Limiter
// (FastPathConfig.Limiter), and one that requires DNS cookies must keep
// it off UDP (FastPathConfig.TCPOnly); NewStack wires both. Queries with
// any EDNS option (a cookie among them) always go to the Handler and its
// middleware. A FastPath is safe for concurrent use.
type FastPath struct {
	s    *Server
	cfg  FastPathConfig
	seed maphash.Seed
	// cache holds the replies for one zone set; a query that finds the
	// Server serving another set puts a fresh cache in its place, so a
	// reply compiled from old zones is never sent after SetZones.
	cache atomic.Pointer[fastCache]
	// seen is the doorkeeper: the keys that missed the cache once.
	seen wire.Doorkeeper
}

// FastPathConfig configures a FastPath. Its zero value answers every query
// of the shape the fast path knows, with no rate limiting.
type FastPathConfig struct {
	// Limiter, when set, rate-limits the UDP replies RawHandler sends, as
	// the ratelimit middleware built with it limits the Handler's: each
	// precompiled reply carries its ratelimit.Key (ratelimit.Classify,
	// computed once), and per reply the Limiter answers, drops (RawHandler
	// then takes the query and sends nothing) or slips (it sends the
	// ratelimit.SlipReply of the reply). TCP replies are exempt. The
	// fast path and the middleware share the Limiter's accounts and
	// counters. Default: nil, no limiting; only right for a server without
	// the ratelimit middleware.
	Limiter *ratelimit.Limiter
	// TCPOnly makes the fast path decline every UDP query, so that each
	// goes through the Handler's middleware: for a server that requires
	// DNS cookies over UDP (cookie.Config.Require). Default: false.
	TCPOnly bool
}

// NewFastPath returns a fast path answering for s, with no rate limiting:
// NewFastPathWith(s, FastPathConfig{}).
func NewFastPath(s *Server) *FastPath {
	return NewFastPathWith(s, FastPathConfig{})
}

// NewFastPathWith returns a fast path answering for s as cfg says. It
// holds no zones of its own: it follows s.SetZones.
func NewFastPathWith(s *Server, cfg FastPathConfig) *FastPath {
	return &FastPath{s: s, cfg: cfg, seed: maphash.MakeSeed()}
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
// engine then drops glue or truncates), whose name is in a case the
// reply cannot follow (see fastEntry.caseFree), or, with TCPOnly, that
// came over UDP.
//
// The reply is the precompiled one with the query's ID, its RD and CD
// flags and its question name as asked, octet for octet. AnswerRaw does
// no rate limiting, having no client address: RawHandler does.
func (f *FastPath) AnswerRaw(query []byte, network string, out []byte) ([]byte, bool) {
	var p fastQuery
	e, ok := f.entry(query, network, &p)
	if !ok {
		return nil, false
	}
	return e.reply(query, &p, out), true
}

// RawHandler is AnswerRaw with the signature of server.Config.RawHandler,
// rate-limited for the client at remote when the FastPath has a Limiter:
// a UDP reply over the rate is dropped (ok with an empty reply: the
// server sends nothing) or slipped (a TC=1 reply with the question only,
// see ratelimit.SlipReply). The Limiter's counters include these
// decisions. Without a Limiter, or when it allows the reply, a hit
// allocates nothing.
func (f *FastPath) RawHandler(query []byte, network string, remote net.Addr, out []byte) ([]byte, bool) {
	var p fastQuery
	e, ok := f.entry(query, network, &p)
	if !ok {
		return nil, false
	}
	if f.cfg.Limiter == nil {
		return e.reply(query, &p, out), true
	}
	switch f.cfg.Limiter.DecideKey(addrOf(remote), *e.rrl, network) {
	case ratelimit.Drop:
		return out[:0], true
	case ratelimit.Slip:
		if slip, ok := ratelimit.SlipReply(e.reply(query, &p, out)); ok {
			return slip, true
		}
		return out[:0], true
	}
	return e.reply(query, &p, out), true
}

// entry returns the cache entry that answers query, parsed into p, or
// false when the fast path declines it (see AnswerRaw). A miss of a key
// asked before compiles and caches its entry.
func (f *FastPath) entry(query []byte, network string, p *fastQuery) (fastEntry, bool) {
	if !p.parse(query, network, f.s.maxUDP) || f.cfg.TCPOnly && !p.tcp {
		return fastEntry{}, false
	}
	set := f.s.zones.Load()
	c := f.cacheFor(set)
	if c == nil {
		return fastEntry{}, false
	}
	key := p.Key[:p.KeyLen]
	h := maphash.Bytes(f.seed, key)
	e, ok := c.entries.Get(h, key)
	if !ok {
		if !f.seen.Admit(h) {
			return fastEntry{}, false
		}
		if e, ok = f.compile(set, query, p); !ok {
			return fastEntry{}, false
		}
		c.entries.Put(h, e.adopt(key), e)
	}
	return e, e.suits(p)
}

// addrOf returns the IP address of remote, the zero Addr when it has none
// (the Limiter then accounts it under one shared prefix, as the
// middleware does).
func addrOf(remote net.Addr) netip.Addr {
	switch a := remote.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case nil:
		return netip.Addr{}
	}
	ap, _ := netip.ParseAddrPort(remote.String())
	return ap.Addr().Unmap()
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
	fresh := newFastCache(set)
	if !f.cache.CompareAndSwap(c, fresh) {
		return nil
	}
	return fresh
}
