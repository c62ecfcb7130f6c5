package resolver

import (
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/resolver/cache"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
)

// This file is the aggressive use of DNSSEC-validated cache (RFC 8198):
// the NSEC records of every Secure NXDOMAIN or NODATA are kept per zone
// (cache.NSECs), and a later query for a name one of them covers is
// answered NXDOMAIN (or NODATA, for a type its own NSEC lacks) from them,
// with AD, without asking upstream. A random-subdomain flood against a
// signed zone then costs the zone's servers one query per NSEC span, not
// one per name. NSEC3 records are kept and used the same way
// (aggressive_nsec3.go, RFC 8198 §5.2). Names under a signed wildcard
// are answered from the wildcard's RRset and the NSEC proving the name
// absent (aggressive_wildcard.go, RFC 8198 §5.4).

// answerKind is what the stored NSEC records prove about a question.
type answerKind int

const (
	// unproven: they prove nothing; ask upstream.
	unproven answerKind = iota
	// provenNXDomain: the name and the wildcard at its closest encloser
	// are both covered (RFC 8198 §5.1, RFC 4035 §5.4).
	provenNXDomain
	// provenNoData: the name's own NSEC lacks the type (and CNAME), or
	// the name is an empty non-terminal.
	provenNoData
)

// learnNSEC keeps the NSEC records of a Secure negative result, res, for
// aggressive use. The records kept are those of the zone whose SOA the
// denial carries, each signed by that zone: the Validator verified every
// such RRset before calling the answer Secure.
func (r *Resolver) learnNSEC(res Result) {
	if r.nsec == nil || res.Security != validate.Secure || (res.Kind != KindNXDomain && res.Kind != KindNoData) {
		return
	}
	var soa *dns.SOA
	for _, rr := range res.Authority {
		if s, ok := rr.(*dns.SOA); ok {
			if soa != nil {
				return // two SOAs: not a denial this code understands
			}
			soa = s
		}
	}
	if soa == nil {
		return
	}
	zone := dnsname.Canonical(soa.Hdr.Name)
	var soaSet []dns.RR
	nsecs, nsec3s := denialSets{}, denialSets{}
	for _, rr := range res.Authority {
		h := rr.Header()
		owner := dnsname.Canonical(h.Name)
		switch rr := rr.(type) {
		case *dns.SOA:
			soaSet = append(soaSet, rr)
		case *dns.NSEC:
			if dnsname.IsSubdomain(owner, zone) {
				nsecs.add(owner, rr)
			}
		case *dns.NSEC3:
			if owner != zone && dnsname.Parent(owner) == zone {
				nsec3s.add(owner, rr)
			}
		case *dns.RRSIG:
			if dnsname.Canonical(rr.SignerName) != zone {
				continue
			}
			switch {
			case rr.TypeCovered == dns.TypeSOA && owner == zone:
				soaSet = append(soaSet, rr)
			case rr.TypeCovered == dns.TypeNSEC && int(rr.Labels) >= ownerLabels(owner):
				// an NSEC signed as expanded from a wildcard is a replay
				nsecs.add(owner, rr)
			case rr.TypeCovered == dns.TypeNSEC3 && int(rr.Labels) == dnsname.Labels(owner):
				nsec3s.add(owner, rr)
			}
		}
	}
	if !hasSig(soaSet) {
		return
	}
	// RFC 9077 §3: a denial lives no longer than the SOA's TTL and MINIMUM.
	ttl := time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
	if sets := nsecs.signed(); len(sets) > 0 {
		r.nsec.Add(zone, soaSet, sets, ttl)
	}
	if sets := nsec3s.signed(); len(sets) > 0 && r.nsec3 != nil {
		r.nsec3.Add(zone, soaSet, sets, ttl)
	}
}

// denialSets gathers the NSEC or NSEC3 records of a denial and their
// RRSIGs by owner, in the order first seen.
type denialSets struct {
	owners []string
	sets   map[string][]dns.RR
}

func (d *denialSets) add(owner string, rr dns.RR) {
	if d.sets == nil {
		d.sets = map[string][]dns.RR{}
	}
	if d.sets[owner] == nil {
		d.owners = append(d.owners, owner)
	}
	d.sets[owner] = append(d.sets[owner], rr)
}

// signed returns the sets that hold a record and an RRSIG over it.
func (d *denialSets) signed() [][]dns.RR {
	var out [][]dns.RR
	for _, o := range d.owners {
		if hasSig(d.sets[o]) {
			out = append(out, d.sets[o])
		}
	}
	return out
}

// ownerLabels is the label count an RRSIG over an RRset owned by owner
// states when it is not a wildcard expansion (RFC 4034 §3.1.3).
func ownerLabels(owner string) int {
	n := dnsname.Labels(owner)
	if len(owner) > 1 && owner[:2] == "*." {
		n--
	}
	return n
}

// hasSig reports whether rrs hold an RRSIG and something it signs.
func hasSig(rrs []dns.RR) bool {
	sig, data := false, false
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeRRSIG {
			sig = true
		} else {
			data = true
		}
	}
	return sig && data
}

// aggressive answers q from the stored NSEC records when they prove it
// NXDOMAIN or NODATA: a Secure result whose authority section holds the
// zone's SOA and the NSEC records of the proof, with the TTL left to the
// shortest-lived of them. A DS question is answered from the records of
// the zone above the name, where a DS lives (RFC 4035 §5.2): never from
// the name's own zone when it is itself an apex.
func (r *Resolver) aggressive(q dns.Question) (Result, bool) {
	if r.nsec == nil || q.Qclass != dns.ClassINET || q.Qtype == dns.TypeANY {
		return Result{}, false
	}
	name := dnsname.Canonical(q.Name)
	holder := name
	if q.Qtype == dns.TypeDS {
		if name == "." {
			return Result{}, false
		}
		holder = dnsname.Parent(name)
	}
	if res, ok := r.aggressiveFrom(r.nsec, r.prove, holder, name, q.Qtype); ok {
		return res, true
	}
	if res, ok := r.fromWildcard(q); ok {
		return res, true // RFC 8198 §5.4 (aggressive_wildcard.go)
	}
	if res, ok := r.fromWildcard3(q); ok {
		return res, true
	}
	if r.nsec3 == nil {
		return Result{}, false
	}
	return r.aggressiveFrom(r.nsec3, r.prove3, holder, name, q.Qtype)
}

// aggressiveFrom answers name and qtype from the records of store (NSEC
// or NSEC3) of the closest zone at or above holder that prove it.
func (r *Resolver) aggressiveFrom(store *cache.NSECs, prove func(zone, name string, qtype uint16) (answerKind, []cache.NSECSpan),
	holder, name string, qtype uint16) (Result, bool) {
	zone, ok := store.Zone(holder)
	if !ok {
		return Result{}, false
	}
	kind, spans := prove(zone, name, qtype)
	if kind == unproven {
		return Result{}, false
	}
	soa, soaExpires, ok := store.SOA(zone)
	if !ok {
		return Result{}, false
	}
	expires := soaExpires
	auth := soa
	for _, s := range spans {
		expires = minTime(expires, s.Expires)
		auth = append(auth, s.RRs...)
	}
	left := uint32(expires.Sub(r.cfg.Now()) / time.Second)
	if left == 0 {
		return Result{}, false
	}
	for _, rr := range auth {
		rr.Header().Ttl = min(rr.Header().Ttl, left)
	}
	res := Result{Kind: KindNoData, Rcode: dns.RcodeSuccess, Authority: auth, Security: validate.Secure}
	if kind == provenNXDomain {
		res.Kind, res.Rcode = KindNXDomain, dns.RcodeNameError
	}
	return res, true
}

// prove decides what the NSEC records of zone prove about name and
// qtype, and returns the spans of the proof.
func (r *Resolver) prove(zone, name string, qtype uint16) (answerKind, []cache.NSECSpan) {
	span, ok := r.nsec.Find(zone, name)
	switch {
	case !ok:
		return unproven, nil
	case span.Owner == name:
		// A delegation's NSEC in the parent denies only its DS.
		delegation := span.Has(dns.TypeNS) && !span.Has(dns.TypeSOA)
		if delegation && qtype != dns.TypeDS || span.Has(qtype) || span.Has(dns.TypeCNAME) || qtype == dns.TypeNSEC || qtype == dns.TypeRRSIG {
			return unproven, nil
		}
		return provenNoData, []cache.NSECSpan{span}
	case !mayDeny(span, name):
		return unproven, nil
	case dnsname.IsSubdomain(span.Next, name):
		return provenNoData, []cache.NSECSpan{span} // an empty non-terminal
	}
	wild := wildcardOf(closestEncloser(span, name))
	ws, ok := r.nsec.Find(zone, wild)
	if !ok || ws.Owner == wild || !mayDeny(ws, wild) {
		return unproven, nil // a wildcard may exist: leave it to upstream
	}
	if ws.Owner == span.Owner {
		return provenNXDomain, []cache.NSECSpan{span}
	}
	return provenNXDomain, []cache.NSECSpan{span, ws}
}

// mayDeny reports whether span covers name and may deny it: not an NSEC
// at a delegation or DNAME above name, whose span holds names of another
// zone (RFC 4035 §5.4; the Validator's rule).
func mayDeny(span cache.NSECSpan, name string) bool {
	if dnsname.IsSubdomain(name, span.Owner) && span.Owner != name &&
		(span.Has(dns.TypeDNAME) || span.Has(dns.TypeNS) && !span.Has(dns.TypeSOA)) {
		return false
	}
	return span.Covers(name)
}

// closestEncloser returns the closest encloser of name that the span
// covering it shows: the longer of the names it shares with the span's
// owner and next name.
func closestEncloser(span cache.NSECSpan, name string) string {
	a, b := sharedAncestor(name, span.Owner), sharedAncestor(name, span.Next)
	if dnsname.Labels(b) > dnsname.Labels(a) {
		return b
	}
	return a
}

// sharedAncestor returns the longest name that a and b are both at or
// below.
func sharedAncestor(a, b string) string {
	n := dns.CompareDomainName(a, b)
	labels := dns.SplitDomainName(a)
	if n == 0 || len(labels) == 0 {
		return "."
	}
	out := ""
	for _, l := range labels[len(labels)-n:] {
		out += l + "."
	}
	return dnsname.Canonical(out)
}

// wildcardOf returns the wildcard name at ce.
func wildcardOf(ce string) string {
	if ce == "." {
		return "*."
	}
	return "*." + ce
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// fromNSEC answers a validated client query from the stored NSEC
// records when they prove it (aggressive), recording the answer as the
// query's one transition, "done".
func (r *Resolver) fromNSEC(q dns.Question, b *budget) (Result, bool) {
	res, ok := r.aggressive(q)
	if !ok {
		return Result{}, false
	}
	if b.tracing || b.hook != nil {
		from := "cached NSEC records"
		if res.Kind == KindAnswer {
			from = "a cached wildcard and NSEC records"
		}
		t := Transition{Step: stepDone.String(), Name: q.Name, Type: q.Qtype,
			Note: fmt.Sprintf("%s from %s (RFC 8198)", dns.RcodeToString[res.Rcode], from)}
		if b.tracing {
			res.Trace = append(res.Trace, t)
		}
		if b.hook != nil {
			b.hook(t)
		}
	}
	return res, true
}
