package resolver

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/resolver/cache"
)

// This file is the aggressive use of validated NSEC3 records (RFC 8198
// §5.2, with RFC 5155 §8's proofs): the NSEC3 records of every Secure
// denial are kept per zone (r.nsec3, a cache.NSECs over the hashed owner
// names), and a later question they prove is answered without asking
// upstream. NODATA: the NSEC3 matching the name's hash lacks the type.
// NXDOMAIN: the closest encloser proof (an ancestor whose hash matches,
// the next closer name's hash covered) and the wildcard at the closest
// encloser covered. An opt-out record never covers anything here (its
// span may hold unsigned delegations, RFC 5155 §6), and all records of
// a proof carry the zone's current hash parameters. The hashes one
// lookup computes are bounded (maxAggressiveHashes); a name needing more
// is asked upstream, as with an unproven one.

// nsec3Hasher hashes names with one zone's NSEC3 parameters, within
// maxAggressiveHashes per lookup.
type nsec3Hasher struct {
	params *dns.NSEC3
	left   int
}

// hash returns the lower-case base32hex hash of name, false when the
// budget is spent.
func (h *nsec3Hasher) hash(name string) (string, bool) {
	if h.left <= 0 {
		return "", false
	}
	h.left--
	out := dns.HashName(name, h.params.Hash, h.params.Iterations, h.params.Salt)
	return strings.ToLower(out), out != ""
}

// sameParams reports whether the NSEC3 record of span uses p's hash
// algorithm, iterations and salt.
func sameParams(span cache.NSECSpan, p *dns.NSEC3) bool {
	n := nsec3Of(span)
	return n != nil && n.Hash == p.Hash && n.Iterations == p.Iterations && strings.EqualFold(n.Salt, p.Salt)
}

// nsec3Of returns the NSEC3 record of span, nil if it has none.
func nsec3Of(span cache.NSECSpan) *dns.NSEC3 {
	for _, rr := range span.RRs {
		if n, ok := rr.(*dns.NSEC3); ok {
			return n
		}
	}
	return nil
}

// lastHashedName is the greatest hashed owner name of zone in canonical
// order: Find with it returns the zone's last NSEC3 span.
func lastHashedName(zone string) string {
	return strings.Repeat("v", 32) + "." + zone
}

// prove3 decides what the NSEC3 records kept for zone prove about name
// and qtype, and returns the spans of the proof.
func (r *Resolver) prove3(zone, name string, qtype uint16) (answerKind, []cache.NSECSpan) {
	last, ok := r.nsec3.Find(zone, lastHashedName(zone))
	if !ok || name == zone && qtype == dns.TypeDS {
		return unproven, nil
	}
	params := nsec3Of(last)
	if params == nil || params.Hash != dns.SHA1 {
		return unproven, nil
	}
	h := &nsec3Hasher{params: params, left: maxAggressiveHashes}
	hn, ok := h.hash(name)
	if !ok {
		return unproven, nil
	}
	if m, ok := r.matching3(zone, hn, params); ok {
		delegation := m.Has(dns.TypeNS) && !m.Has(dns.TypeSOA)
		if delegation && qtype != dns.TypeDS || m.Has(qtype) || m.Has(dns.TypeCNAME) || qtype == dns.TypeNSEC3 || qtype == dns.TypeRRSIG {
			return unproven, nil
		}
		return provenNoData, []cache.NSECSpan{m}
	}
	return r.nxdomain3(zone, name, h)
}

// nxdomain3 looks for the closest encloser proof of name and the proof
// that no wildcard at the closest encloser exists (RFC 5155 §8.4).
func (r *Resolver) nxdomain3(zone, name string, h *nsec3Hasher) (answerKind, []cache.NSECSpan) {
	next := name
	for ce := dnsname.Parent(name); dnsname.IsSubdomain(ce, zone); ce = dnsname.Parent(ce) {
		hc, ok := h.hash(ce)
		if !ok {
			return unproven, nil
		}
		m, ok := r.matching3(zone, hc, h.params)
		if !ok {
			if ce == zone || ce == "." {
				return unproven, nil
			}
			next = ce
			continue
		}
		if m.Has(dns.TypeDNAME) || m.Has(dns.TypeNS) && !m.Has(dns.TypeSOA) {
			return unproven, nil // names below a delegation or DNAME are not this zone's
		}
		nc, ok1 := r.covering3(zone, next, h)
		wc, ok2 := r.covering3(zone, wildcardOf(ce), h)
		if !ok1 || !ok2 {
			return unproven, nil
		}
		return provenNXDomain, uniqueSpans(m, nc, wc)
	}
	return unproven, nil
}

// matching3 returns the live span of zone owned by the hash hn, with the
// zone's parameters.
func (r *Resolver) matching3(zone, hn string, p *dns.NSEC3) (cache.NSECSpan, bool) {
	owner := hn + "." + zone
	s, ok := r.nsec3.Find(zone, owner)
	if !ok || s.Owner != owner || !sameParams(s, p) {
		return cache.NSECSpan{}, false
	}
	return s, true
}

// covering3 returns the live span of zone whose hashes strictly enclose
// the hash of name (the last span wraps around to the first), when it is
// not opt-out and has the zone's parameters.
func (r *Resolver) covering3(zone, name string, h *nsec3Hasher) (cache.NSECSpan, bool) {
	hn, ok := h.hash(name)
	if !ok {
		return cache.NSECSpan{}, false
	}
	s, ok := r.nsec3.Find(zone, hn+"."+zone)
	if !ok {
		// Before the first owner: only the last span, wrapping, covers.
		if s, ok = r.nsec3.Find(zone, lastHashedName(zone)); !ok {
			return cache.NSECSpan{}, false
		}
	}
	owner, next := firstLabel(s.Owner), firstLabel(s.Next)
	covers := owner < hn && hn < next || owner >= next && (hn > owner || hn < next)
	n := nsec3Of(s)
	if !covers || n == nil || n.Flags&1 != 0 || !sameParams(s, h.params) {
		return cache.NSECSpan{}, false
	}
	return s, true
}

// firstLabel returns the first label of name.
func firstLabel(name string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return name
}

// uniqueSpans returns the spans without repeats (one record may be the
// closest encloser's and cover the wildcard too).
func uniqueSpans(spans ...cache.NSECSpan) []cache.NSECSpan {
	var out []cache.NSECSpan
	for _, s := range spans {
		dup := false
		for _, o := range out {
			dup = dup || o.Owner == s.Owner
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}
