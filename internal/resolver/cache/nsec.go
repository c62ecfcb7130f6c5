package cache

import (
	"sort"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// Limits of the NSEC store (../../../../shared/LIMITS.md, "aggressive
// NSEC/NSEC3").
const (
	// MaxNSECPerZone is the most NSEC records kept for one zone. Aggressive
	// use (RFC 8198) turns a random-subdomain flood into cache hits once a
	// zone's spans are known; the bound keeps a zone walked by the flood
	// (or a huge zone) from growing memory without end. When a zone is
	// full the record closest to expiry makes room.
	MaxNSECPerZone = 1024

	// MaxNSECZones is the most zones whose NSEC records are kept; when it
	// is reached a zone with nothing live left, or else any one zone, is
	// dropped (cache flooding through many signed zones).
	MaxNSECZones = 1000

	// MaxWildcardsPerZone is the most wildcard RRsets kept for one zone
	// (one per wildcard owner and type, wildcard.go). A zone has few
	// wildcards, and one RRset per type asked of them is all that
	// aggressive synthesis (RFC 8198 §5.4) needs; the bound keeps a zone
	// that signs many wildcards, asked for many types, from growing
	// memory without end. When full, the entry closest to expiry makes
	// room.
	MaxWildcardsPerZone = 64
)

// NSECs keeps validated (Secure) NSEC records per zone in canonical
// order, with the zone's signed SOA, for aggressive negative caching
// (RFC 8198): a resolver finds the record that matches or covers a name
// and answers NXDOMAIN or NODATA without asking upstream. It stores only
// what its caller proved; it checks no signature itself. It is safe for
// concurrent use.
//
//	c := cache.NewNSECs(time.Now)
//	c.Add(zone, soa, nsecSets, ttl) // after a Secure NXDOMAIN or NODATA
//	if span, ok := c.Find(zone, name); ok && span.Covers(name) { ... }
type NSECs struct {
	now func() time.Time

	mu    sync.Mutex
	zones map[string]*nsecZone // guarded by mu; by canonical zone name
}

// nsecZone is the store of one zone: its SOA and its NSEC spans sorted by
// owner in canonical order.
type nsecZone struct {
	soa        []dns.RR // the SOA and its RRSIGs
	soaExpires time.Time
	soaStored  time.Time
	spans      []NSECSpan
	wild       map[wildKey]Wildcard // validated wildcard RRsets (wildcard.go)
}

// NSECSpan is one stored NSEC record: the names from Owner to Next.
type NSECSpan struct {
	// Owner and Next are the NSEC's owner and next name, canonical.
	Owner, Next string
	// Types is the NSEC's type bitmap.
	Types []uint16
	// RRs are the NSEC and its RRSIGs, their TTLs the time left when
	// returned by Find.
	RRs []dns.RR
	// Expires is when the span stops being usable.
	Expires time.Time

	key    string // dnsname.SortKey(Owner)
	stored time.Time
}

// NewNSECs returns an empty NSEC store on the clock now (time.Now if nil).
func NewNSECs(now func() time.Time) *NSECs {
	if now == nil {
		now = time.Now
	}
	return &NSECs{now: now, zones: map[string]*nsecZone{}}
}

// Add stores the NSEC records of zone, each set an NSEC (or an NSEC3,
// in a store kept for NSEC3 apart) and its RRSIGs,
// and the zone's SOA with its RRSIGs, all proven Secure by the caller.
// Each is kept for at most ttl (the caller's RFC 9077 bound: the smaller
// of the SOA TTL and MINIMUM), its own TTL, MaxNegativeTTL, and the end of
// its signatures' validity. Sets without exactly one NSEC or NSEC3 are
// ignored.
func (c *NSECs) Add(zone string, soa []dns.RR, sets [][]dns.RR, ttl time.Duration) {
	zone = dnsname.Canonical(zone)
	now := c.now()
	ttl = min(ttl, MaxNegativeTTL)
	c.mu.Lock()
	defer c.mu.Unlock()
	z := c.zoneLocked(zone, now)
	if len(soa) > 0 {
		life := lifetime(soa, ttl, now)
		z.soa, z.soaStored, z.soaExpires = clamped(soa, life), now, now.Add(life)
	}
	for _, set := range sets {
		owner, next, types, ok := spanOf(set, zone)
		if !ok {
			continue
		}
		life := lifetime(set, ttl, now)
		if life <= 0 {
			continue
		}
		z.put(NSECSpan{Owner: owner, Next: next, Types: append([]uint16(nil), types...),
			RRs: clamped(set, life), Expires: now.Add(life), key: dnsname.SortKey(owner), stored: now}, now)
	}
}

// zoneLocked returns the records kept for zone, made (room made first)
// when there are none yet. c.mu must be held.
func (c *NSECs) zoneLocked(zone string, now time.Time) *nsecZone {
	z := c.zones[zone]
	if z == nil {
		c.makeRoom(now)
		z = &nsecZone{}
		c.zones[zone] = z
	}
	return z
}

// spanOf returns the owner, next name and types of the one NSEC or NSEC3
// record of set; not ok when it has none or several. An NSEC3's next
// name is its next hashed owner name in zone (RFC 5155 §3.1.7), so that
// NSEC3 spans sort and match like NSEC ones over the hashed names.
func spanOf(set []dns.RR, zone string) (owner, next string, types []uint16, ok bool) {
	found := 0
	for _, rr := range set {
		switch x := rr.(type) {
		case *dns.NSEC:
			owner, next, types = dnsname.Canonical(x.Hdr.Name), dnsname.Canonical(x.NextDomain), x.TypeBitMap
			found++
		case *dns.NSEC3:
			owner, next, types = dnsname.Canonical(x.Hdr.Name), dnsname.Canonical(x.NextDomain+"."+zone), x.TypeBitMap
			found++
		}
	}
	return owner, next, types, found == 1
}

// makeRoom drops zones when MaxNSECZones are kept: those with nothing
// live, or else one. c.mu is held.
func (c *NSECs) makeRoom(now time.Time) {
	if len(c.zones) < MaxNSECZones {
		return
	}
	for name, z := range c.zones {
		if z.prune(now); len(z.spans) == 0 && len(z.wild) == 0 {
			delete(c.zones, name)
		}
	}
	for name := range c.zones {
		if len(c.zones) < MaxNSECZones {
			return
		}
		delete(c.zones, name)
	}
}

// put inserts s in order, replacing a span with the same owner; a full
// zone first drops expired spans, then the one closest to expiry.
func (z *nsecZone) put(s NSECSpan, now time.Time) {
	i := sort.Search(len(z.spans), func(i int) bool { return z.spans[i].key >= s.key })
	if i < len(z.spans) && z.spans[i].key == s.key {
		z.spans[i] = s
		return
	}
	if len(z.spans) >= MaxNSECPerZone {
		z.prune(now)
		if len(z.spans) >= MaxNSECPerZone {
			soonest := 0
			for j, x := range z.spans {
				if x.Expires.Before(z.spans[soonest].Expires) {
					soonest = j
				}
			}
			z.spans = append(z.spans[:soonest], z.spans[soonest+1:]...)
		}
		i = sort.Search(len(z.spans), func(i int) bool { return z.spans[i].key >= s.key })
	}
	z.spans = append(z.spans, NSECSpan{})
	copy(z.spans[i+1:], z.spans[i:])
	z.spans[i] = s
}

// prune drops the expired spans of z.
func (z *nsecZone) prune(now time.Time) {
	live := z.spans[:0]
	for _, s := range z.spans {
		if now.Before(s.Expires) {
			live = append(live, s)
		}
	}
	clear(z.spans[len(live):])
	z.spans = live
}

// Zone returns the closest enclosing zone of name that has live NSEC
// records and a live SOA.
func (c *NSECs) Zone(name string) (string, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for n := dnsname.Canonical(name); ; n = dnsname.Parent(n) {
		if z := c.zones[n]; z != nil && now.Before(z.soaExpires) && len(z.spans) > 0 {
			return n, true
		}
		if n == "." {
			return "", false
		}
	}
}

// SOA returns the stored SOA of zone and its RRSIGs, their TTLs the time
// left, and when they expire.
func (c *NSECs) SOA(zone string) ([]dns.RR, time.Time, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	z := c.zones[dnsname.Canonical(zone)]
	if z == nil || !now.Before(z.soaExpires) {
		return nil, time.Time{}, false
	}
	return agedCopies(z.soa, now.Sub(z.soaStored)), z.soaExpires, true
}

// Find returns the live span of zone whose owner is the last at or
// before name in canonical order: the NSEC that matches name, or the only
// one that can cover it. The caller decides what it proves (Covers).
func (c *NSECs) Find(zone, name string) (NSECSpan, bool) {
	now := c.now()
	key := dnsname.SortKey(dnsname.Canonical(name))
	c.mu.Lock()
	defer c.mu.Unlock()
	z := c.zones[dnsname.Canonical(zone)]
	if z == nil {
		return NSECSpan{}, false
	}
	i := sort.Search(len(z.spans), func(i int) bool { return z.spans[i].key > key }) - 1
	if i < 0 || !now.Before(z.spans[i].Expires) {
		return NSECSpan{}, false
	}
	s := z.spans[i]
	s.RRs = agedCopies(s.RRs, now.Sub(s.stored))
	s.Types = append([]uint16(nil), s.Types...)
	return s, true
}

// Len returns the number of NSEC records kept for zone, live or not.
func (c *NSECs) Len(zone string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if z := c.zones[dnsname.Canonical(zone)]; z != nil {
		return len(z.spans)
	}
	return 0
}

// Covers reports whether name lies strictly inside the span, between its
// owner and next name in canonical order (the last NSEC of a zone, whose
// next name is the apex, covers every name after its owner in the zone).
func (s NSECSpan) Covers(name string) bool {
	name = dnsname.Canonical(name)
	after := dnsname.Compare(s.Owner, name) < 0
	if dnsname.Compare(s.Owner, s.Next) < 0 {
		return after && dnsname.Compare(name, s.Next) < 0
	}
	return after && dnsname.IsSubdomain(name, s.Next)
}

// Has reports whether the span's type bitmap lists t.
func (s NSECSpan) Has(t uint16) bool {
	for _, x := range s.Types {
		if x == t {
			return true
		}
	}
	return false
}

// lifetime returns how long rrs may be used from now: the smallest of
// limit, their TTLs and the time left before their RRSIGs expire.
func lifetime(rrs []dns.RR, limit time.Duration, now time.Time) time.Duration {
	for _, rr := range rrs {
		limit = min(limit, time.Duration(rr.Header().Ttl)*time.Second)
		if sig, ok := rr.(*dns.RRSIG); ok {
			limit = min(limit, time.Unix(int64(sig.Expiration), 0).Sub(now))
		}
	}
	return limit
}

// copyRRs returns deep copies of rrs.
func copyRRs(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

// clamped returns copies of rrs with no TTL above life.
func clamped(rrs []dns.RR, life time.Duration) []dns.RR {
	out := copyRRs(rrs)
	sec := uint32(max(life, 0) / time.Second)
	for _, rr := range out {
		h := rr.Header()
		h.Ttl = min(h.Ttl, sec)
	}
	return out
}

// agedCopies returns copies of rrs with their TTLs lowered by age.
func agedCopies(rrs []dns.RR, age time.Duration) []dns.RR {
	out := copyRRs(rrs)
	sec := uint32(max(age, 0) / time.Second)
	for _, rr := range out {
		h := rr.Header()
		h.Ttl -= min(h.Ttl, sec)
	}
	return out
}
