package cache

import (
	"bytes"
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Config configures a [Cache]. Its zero value works.
type Config struct {
	// MaxBytes bounds the cache's size, counted as the records' wire
	// size plus a fixed overhead per entry. Default: DefaultMaxBytes.
	MaxBytes int
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// ServeStale keeps entries this long past their TTL for GetStale
	// (RFC 8767; it suggests 1 to 3 days). Default: 0, off: an expired
	// entry is gone.
	ServeStale time.Duration
}

// Kind classifies a cache lookup.
type Kind int

const (
	// Miss means nothing usable is cached.
	Miss Kind = iota
	// Positive means RRs holds the RRset asked for.
	Positive
	// NXDomain means the name does not exist; SOA proves it.
	NXDomain
	// NoData means the name exists but has no RRset of the type; SOA
	// proves it.
	NoData
)

var kindNames = [...]string{"Miss", "Positive", "NXDomain", "NoData"}

// String returns the kind's name, such as "Positive".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind?"
}

// Result is the outcome of a lookup. RRs and SOA are copies whose TTLs
// are the seconds left.
type Result struct {
	Kind Kind
	RRs  []dns.RR
	SOA  dns.RR
	Rank Rank
}

// Delegation is a zone cut as the parent's referral described it: the
// zone, its NS set and the glue addresses of those names that the
// resolver kept after the bailiwick scrub.
type Delegation struct {
	Zone string
	NS   []*dns.NS
	Glue []dns.RR // A and AAAA records
}

// ErrTooLarge is returned by Put for an RRset of more than
// MaxRRsPerRRset records.
var ErrTooLarge = errors.New("cache: RRset too large")

// ErrRank is returned by Put and PutNegative when a live entry of a
// higher rank is in the way.
var ErrRank = errors.New("cache: a higher-ranked entry is cached")

// space separates answer data from delegations: only referrals write
// delegations.
type space uint8

const (
	spaceData space = iota
	spaceNXDomain
	spaceDelegation
	spaceSigs // RRSIGs over an RRset, keyed by the type they cover
)

type key struct {
	name  string // lower case
	qtype uint16
	class uint16
	space space
}

type entry struct {
	key     key
	rrs     []dns.RR // positive data, or nil for negative
	soa     dns.RR   // negative entries
	deleg   *Delegation
	signed  string // RRSIG entries: RdataKey of the RRset they came with
	rank    Rank
	expires time.Time
	size    int
}

// Cache is a ranked, byte-bounded RRset cache. It is safe for concurrent
// use.
type Cache struct {
	maxBytes int
	now      func() time.Time
	stale    time.Duration

	mu    sync.Mutex
	items map[key]*list.Element // guarded by mu
	lru   *list.List            // guarded by mu; front is most recent
	bytes int                   // guarded by mu
}

// New returns an empty cache.
func New(cfg Config) *Cache {
	c := &Cache{maxBytes: cfg.MaxBytes, now: cfg.Now, stale: max(cfg.ServeStale, 0), items: map[key]*list.Element{}, lru: list.New()}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Len returns the number of entries, expired ones included until they
// are evicted or looked up.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Bytes returns the cache's current size as counted against MaxBytes.
func (c *Cache) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Put caches one RRset (records sharing owner, type and class) at rank.
// The TTL is the smallest TTL of the set, clamped to MaxTTL. It returns
// ErrRank, leaving the cache unchanged, when a live entry of higher rank
// holds the key (RFC 2181 §5.4.1), and ErrTooLarge for a set of more than
// MaxRRsPerRRset records. A positive RRset replaces a negative entry of no
// higher rank for its name and type.
func (c *Cache) Put(rrs []dns.RR, rank Rank) error {
	if len(rrs) == 0 {
		return errors.New("cache: empty RRset")
	}
	if len(rrs) > MaxRRsPerRRset {
		return fmt.Errorf("%w: %d records, limit %d", ErrTooLarge, len(rrs), MaxRRsPerRRset)
	}
	h := rrs[0].Header()
	ttl := h.Ttl
	set := make([]dns.RR, len(rrs))
	size := entryOverhead
	for i, rr := range rrs {
		rh := rr.Header()
		if !strings.EqualFold(rh.Name, h.Name) || rh.Rrtype != h.Rrtype || rh.Class != h.Class {
			return fmt.Errorf("cache: %s does not belong to the RRset of %s", rr, rrs[0])
		}
		ttl = min(ttl, rh.Ttl)
		set[i] = dns.Copy(rr)
		size += dns.Len(rr)
	}
	k := key{name: strings.ToLower(h.Name), qtype: h.Rrtype, class: h.Class}
	return c.store(&entry{key: k, rrs: set, rank: rank, size: size}, clampTTL(ttl, MaxTTL))
}

// PutNegative caches a denial proved by soa: NXDOMAIN for name when qtype
// is 0 (kind NXDomain, RFC 2308 §5, per name), else NODATA for (name,
// qtype). The TTL is the smaller of the SOA's TTL and its MINIMUM field
// (RFC 2308 §5), clamped to MaxNegativeTTL.
func (c *Cache) PutNegative(name string, qtype, class uint16, soa *dns.SOA, rank Rank) error {
	if soa == nil {
		return errors.New("cache: a negative answer needs its SOA (RFC 2308 §5)")
	}
	k := key{name: strings.ToLower(name), qtype: qtype, class: class}
	if qtype == 0 {
		k.space = spaceNXDomain
	}
	ttl := min(soa.Hdr.Ttl, soa.Minttl)
	e := &entry{key: k, soa: dns.Copy(soa), rank: rank, size: entryOverhead + dns.Len(soa)}
	return c.store(e, clampTTL(ttl, MaxNegativeTTL))
}

// PutDelegation caches the zone cut d, learned from a referral by the
// zone's parent. Delegations are kept apart from answer data: NS records
// met anywhere else never change them. A newer referral replaces the old
// one; the TTL is the NS set's, clamped to MaxTTL.
func (c *Cache) PutDelegation(d Delegation) error {
	if len(d.NS) == 0 {
		return errors.New("cache: delegation without NS records")
	}
	if len(d.NS) > MaxRRsPerRRset || len(d.Glue) > MaxRRsPerRRset {
		return fmt.Errorf("%w: delegation of %s", ErrTooLarge, d.Zone)
	}
	cp := &Delegation{Zone: dns.CanonicalName(d.Zone)}
	ttl := d.NS[0].Hdr.Ttl
	size := entryOverhead
	for _, ns := range d.NS {
		ttl = min(ttl, ns.Hdr.Ttl)
		cp.NS = append(cp.NS, dns.Copy(ns).(*dns.NS))
		size += dns.Len(ns)
	}
	for _, rr := range d.Glue {
		cp.Glue = append(cp.Glue, dns.Copy(rr))
		size += dns.Len(rr)
	}
	k := key{name: cp.Zone, qtype: dns.TypeNS, class: dns.ClassINET, space: spaceDelegation}
	return c.store(&entry{key: k, deleg: cp, rank: RankGlue, size: size}, clampTTL(ttl, MaxTTL))
}

// Delegation returns the live delegation cached for zone, with TTLs set to
// the seconds left.
func (c *Cache) Delegation(zone string) (Delegation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, left := c.live(key{name: strings.ToLower(dns.Fqdn(zone)), qtype: dns.TypeNS, class: dns.ClassINET, space: spaceDelegation})
	if e == nil {
		return Delegation{}, false
	}
	d := Delegation{Zone: e.deleg.Zone}
	for _, ns := range e.deleg.NS {
		d.NS = append(d.NS, withTTL(ns, left).(*dns.NS))
	}
	for _, rr := range e.deleg.Glue {
		d.Glue = append(d.Glue, withTTL(rr, left))
	}
	return d, true
}

// DelegationShared is Delegation without the copies: the NS and glue
// records are the cache's own, with the TTLs they were stored with, and
// must not be modified (the cache never modifies them either). Every
// cache miss of the resolver reads a delegation for its NS names and
// glue addresses only; copying each record for it was a tenth of the
// allocations of a miss.
func (c *Cache) DelegationShared(zone string) (Delegation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, _ := c.live(key{name: strings.ToLower(dns.Fqdn(zone)), qtype: dns.TypeNS, class: dns.ClassINET, space: spaceDelegation})
	if e == nil {
		return Delegation{}, false
	}
	d := *e.deleg
	d.NS, d.Glue = slices.Clip(d.NS), slices.Clip(d.Glue) // an append copies
	return d, true
}

// Get looks up (name, qtype, class): a cached RRset, a NODATA for the
// type, or an NXDOMAIN for the name.
func (c *Cache) Get(name string, qtype, class uint16) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.get(name, qtype, class, c.live)
}

// PutSigs caches the RRSIG records sigs, all owned by one name and
// covering one type, beside the RRset they sign, rrs, as the same reply
// gave them: a validating resolver asks with DO, and keeps the
// signatures so that validating the RRset again, when a later answer
// reaches it from the cache (the target of a CNAME, say), needs no
// second upstream query (RFC 4035 §4.5 has resolvers keep signatures
// with their data). They are kept apart from answer data, so that Get
// never returns them, and only the validator trusts them, after
// verifying them. The TTL is the smallest of the set's. A newer set
// replaces the old one.
func (c *Cache) PutSigs(sigs []*dns.RRSIG, rrs []dns.RR) error {
	if len(sigs) == 0 {
		return errors.New("cache: no RRSIG")
	}
	if len(sigs) > MaxRRsPerRRset {
		return fmt.Errorf("%w: %d RRSIGs, limit %d", ErrTooLarge, len(sigs), MaxRRsPerRRset)
	}
	h := sigs[0].Hdr
	ttl := h.Ttl
	set := make([]dns.RR, len(sigs))
	size := entryOverhead
	for i, sig := range sigs {
		if !strings.EqualFold(sig.Hdr.Name, h.Name) || sig.TypeCovered != sigs[0].TypeCovered || sig.Hdr.Class != h.Class {
			return fmt.Errorf("cache: %s does not sign the RRset of %s", sig, sigs[0])
		}
		ttl = min(ttl, sig.Hdr.Ttl)
		set[i] = dns.Copy(sig)
		size += dns.Len(sig)
	}
	k := key{name: strings.ToLower(h.Name), qtype: sigs[0].TypeCovered, class: h.Class, space: spaceSigs}
	return c.store(&entry{key: k, rrs: set, signed: RdataKey(rrs), rank: RankAnswerAuth, size: size}, clampTTL(ttl, MaxTTL))
}

// Sigs returns the live RRSIGs cached for the RRset (name, covered,
// class), with TTLs set to the seconds left, when they came with an
// RRset of the same data as rrs (the cached RRset may have been replaced
// since: its old signatures would make it look bogus); nil otherwise.
func (c *Cache) Sigs(name string, covered, class uint16, rrs []dns.RR) []dns.RR {
	c.mu.Lock()
	e, left := c.live(key{name: strings.ToLower(name), qtype: covered, class: class, space: spaceSigs})
	c.mu.Unlock()
	if e == nil || e.signed != RdataKey(rrs) {
		return nil
	}
	out := make([]dns.RR, len(e.rrs))
	for i, rr := range e.rrs {
		out[i] = withTTL(rr, left)
	}
	return out
}

// RdataKey names the data of an RRset, whatever the order of its records
// and their TTLs: the records' rdata in wire form (names as spelled),
// sorted, each with its length. A record that does not pack (built in
// memory, never off the wire) is named by its presentation form instead,
// marked apart. Wire form, not presentation: formatting an RRSIG's
// signature in base64 for every signed answer cost more than the rest of
// keeping its signatures.
func RdataKey(rrs []dns.RR) string {
	parts := make([][]byte, 0, len(rrs))
	size := 0
	for _, rr := range rrs {
		p := rdataOf(rr)
		parts = append(parts, p)
		size += 2 + len(p)
	}
	slices.SortFunc(parts, bytes.Compare)
	key := make([]byte, 0, size)
	for _, p := range parts {
		key = binary.BigEndian.AppendUint16(key, uint16(len(p)))
		key = append(key, p...)
	}
	return string(key)
}

// rdataOf returns rr's rdata in wire form after a 0 byte, or, when rr
// does not pack, its presentation form after a 1 byte.
func rdataOf(rr dns.RR) []byte {
	buf := make([]byte, 1+dns.Len(rr))
	if end, err := dns.PackRR(rr, buf, 1, nil, false); err == nil {
		if start, ok := rdataStart(buf[:end], 1); ok {
			buf[start-1] = 0
			return buf[start-1 : end]
		}
	}
	return append([]byte{1}, strings.TrimPrefix(rr.String(), rr.Header().String())...)
}

// rdataStart returns the offset of the rdata of the uncompressed record
// that starts at off in b: after the owner name, type, class, TTL and
// rdata length.
func rdataStart(b []byte, off int) (int, bool) {
	for off < len(b) && b[off] != 0 {
		off += 1 + int(b[off])
	}
	off += 1 + 10
	return off, off <= len(b)
}

// Peek returns the kind of what Get would return for (name, qtype,
// class), without copying any record: for callers that only need to know
// whether the name is known (the resolver's QNAME minimisation).
func (c *Cache) Peek(name string, qtype, class uint16) Kind {
	c.mu.Lock()
	defer c.mu.Unlock()
	lname := strings.ToLower(name)
	if e, _ := c.live(key{name: lname, class: class, space: spaceNXDomain}); e != nil {
		return NXDomain
	}
	e, _ := c.live(key{name: lname, qtype: qtype, class: class})
	switch {
	case e == nil:
		return Miss
	case e.rrs == nil:
		return NoData
	}
	return Positive
}

// GetStale is Get for entries past their TTL but within Config.ServeStale
// (RFC 8767): the resolver serves them, with TTL StaleTTL, only when it
// cannot reach any server. Live entries are returned too. With ServeStale
// off it is Get.
func (c *Cache) GetStale(name string, qtype, class uint16) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.get(name, qtype, class, c.staleOrLive)
}

func (c *Cache) get(name string, qtype, class uint16, find func(key) (*entry, uint32)) Result {
	lname := strings.ToLower(name)
	if e, left := find(key{name: lname, class: class, space: spaceNXDomain}); e != nil {
		return Result{Kind: NXDomain, SOA: withTTL(e.soa, left), Rank: e.rank}
	}
	e, left := find(key{name: lname, qtype: qtype, class: class})
	switch {
	case e == nil:
		return Result{Kind: Miss}
	case e.rrs == nil:
		return Result{Kind: NoData, SOA: withTTL(e.soa, left), Rank: e.rank}
	}
	out := make([]dns.RR, len(e.rrs))
	for i, rr := range e.rrs {
		out[i] = withTTL(rr, left)
	}
	return Result{Kind: Positive, RRs: out, Rank: e.rank}
}

// store inserts e unless a live entry of higher rank holds its key; a
// positive RRset also clears an NXDOMAIN of lower rank for its name.
func (c *Cache) store(e *entry, ttl time.Duration) error {
	now := c.now()
	e.expires = now.Add(ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, _ := c.live(e.key); old != nil && old.rank > e.rank {
		return fmt.Errorf("%w: %s/%d has rank %s, new data %s", ErrRank, e.key.name, e.key.qtype, old.rank, e.rank)
	}
	if e.rrs != nil && e.key.space == spaceData {
		nx := key{name: e.key.name, class: e.key.class, space: spaceNXDomain}
		if old, _ := c.live(nx); old != nil {
			if old.rank > e.rank {
				return fmt.Errorf("%w: %s is cached as NXDOMAIN at rank %s", ErrRank, e.key.name, old.rank)
			}
			c.remove(c.items[nx])
		}
	}
	if el, ok := c.items[e.key]; ok {
		c.remove(el)
	}
	c.items[e.key] = c.lru.PushFront(e)
	c.bytes += e.size
	for c.bytes > c.maxBytes && c.lru.Len() > 1 {
		c.remove(c.lru.Back())
	}
	return nil
}

// live returns the unexpired entry for k and its seconds left, marking it
// recently used; an expired entry is removed. c.mu must be held.
func (c *Cache) live(k key) (*entry, uint32) {
	el, ok := c.items[k]
	if !ok {
		return nil, 0
	}
	e := el.Value.(*entry)
	left := e.expires.Sub(c.now())
	if left <= 0 {
		if left <= -c.stale {
			c.remove(el)
		}
		return nil, 0
	}
	c.lru.MoveToFront(el)
	return e, uint32((left + time.Second - 1) / time.Second)
}

// staleOrLive is live, but also returns an expired entry within the
// serve-stale window, with TTL StaleTTL. c.mu must be held.
func (c *Cache) staleOrLive(k key) (*entry, uint32) {
	if e, left := c.live(k); e != nil {
		return e, left
	}
	el, ok := c.items[k]
	if !ok {
		return nil, 0
	}
	return el.Value.(*entry), uint32(StaleTTL / time.Second)
}

// remove drops el. c.mu must be held.
func (c *Cache) remove(el *list.Element) {
	e := el.Value.(*entry)
	c.lru.Remove(el)
	delete(c.items, e.key)
	c.bytes -= e.size
}

func clampTTL(ttl uint32, limit time.Duration) time.Duration {
	return min(time.Duration(ttl)*time.Second, limit)
}

func withTTL(rr dns.RR, ttl uint32) dns.RR {
	cp := dns.Copy(rr)
	cp.Header().Ttl = ttl
	return cp
}
