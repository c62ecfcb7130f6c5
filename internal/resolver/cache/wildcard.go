package cache

import (
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// Wildcard is a stored wildcard RRset: the records owned by a wildcard
// name (*.closest-encloser) of one type, with their RRSIGs, as a
// validated wildcard expansion proved them.
type Wildcard struct {
	// Owner is the wildcard name, canonical.
	Owner string
	// RRs are the records and their RRSIGs, owned by Owner, their TTLs
	// the time left when returned by Wildcard.
	RRs []dns.RR
	// Expires is when the RRset stops being usable.
	Expires time.Time

	stored time.Time
}

// wildKey names a stored wildcard RRset.
type wildKey struct {
	owner string
	qtype uint16
}

// AddWildcard stores the wildcard RRset of zone owned by owner (a
// wildcard name in zone) of qtype, records and RRSIGs, proven Secure by
// the caller. It is kept for at most ttl, its own TTLs and the end of its
// signatures' validity. A set with no record of qtype or no RRSIG is
// ignored.
func (c *NSECs) AddWildcard(zone, owner string, qtype uint16, rrs []dns.RR, ttl time.Duration) {
	zone, owner = dnsname.Canonical(zone), dnsname.Canonical(owner)
	if len(owner) < 2 || owner[:2] != "*." || !dnsname.IsSubdomain(owner, zone) || !holdsSigned(rrs, qtype) {
		return
	}
	now := c.now()
	life := lifetime(rrs, min(ttl, MaxNegativeTTL), now)
	if life <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	z := c.zoneLocked(zone, now)
	if z.wild == nil {
		z.wild = map[wildKey]Wildcard{}
	}
	k := wildKey{owner, qtype}
	if _, ok := z.wild[k]; !ok && len(z.wild) >= MaxWildcardsPerZone {
		z.dropSoonestWildcard(now)
	}
	z.wild[k] = Wildcard{Owner: owner, RRs: clamped(rrs, life), Expires: now.Add(life), stored: now}
}

// holdsSigned reports whether rrs hold a record of qtype and an RRSIG
// over qtype.
func holdsSigned(rrs []dns.RR, qtype uint16) bool {
	data, sig := false, false
	for _, rr := range rrs {
		switch x := rr.(type) {
		case *dns.RRSIG:
			sig = sig || x.TypeCovered == qtype
		default:
			data = data || rr.Header().Rrtype == qtype
		}
	}
	return data && sig
}

// dropSoonestWildcard drops the expired wildcard RRsets of z, or else
// the one closest to expiry. c.mu is held.
func (z *nsecZone) dropSoonestWildcard(now time.Time) {
	var soonest wildKey
	var first time.Time
	for k, w := range z.wild {
		if !now.Before(w.Expires) {
			delete(z.wild, k)
			continue
		}
		if first.IsZero() || w.Expires.Before(first) {
			soonest, first = k, w.Expires
		}
	}
	if len(z.wild) >= MaxWildcardsPerZone {
		delete(z.wild, soonest)
	}
}

// Wildcard returns the live wildcard RRset of zone owned by owner of
// qtype, their TTLs the time left.
func (c *NSECs) Wildcard(zone, owner string, qtype uint16) (Wildcard, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	z := c.zones[dnsname.Canonical(zone)]
	if z == nil {
		return Wildcard{}, false
	}
	w, ok := z.wild[wildKey{dnsname.Canonical(owner), qtype}]
	if !ok || !now.Before(w.Expires) {
		return Wildcard{}, false
	}
	w.RRs = agedCopies(w.RRs, now.Sub(w.stored))
	return w, true
}

// SpanZone returns the closest enclosing zone of name that has live NSEC
// records, with or without a live SOA: a wildcard expansion is proven by
// an NSEC alone, where a denial needs the SOA too (Zone).
func (c *NSECs) SpanZone(name string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for n := dnsname.Canonical(name); ; n = dnsname.Parent(n) {
		if z := c.zones[n]; z != nil && len(z.spans) > 0 {
			return n, true
		}
		if n == "." {
			return "", false
		}
	}
}
