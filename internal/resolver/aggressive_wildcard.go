package resolver

import (
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/resolver/cache"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
)

// This file synthesises answers from validated wildcards (RFC 8198 §5.4).
// A Secure answer expanded from a wildcard (its RRSIG's labels field
// counts fewer labels than the name) carries the NSEC that proves the
// name itself absent (RFC 4035 §3.1.3.3); learnWildcard keeps that NSEC
// with the other spans of its zone, and the wildcard's RRset and RRSIGs
// under the wildcard's own name. A later query for a name that a stored
// NSEC proves absent, whose closest encloser that NSEC shows holds the
// stored wildcard, is answered from them with no upstream query: the
// wildcard's RRset with its owner rewritten to the name, its RRSIGs as
// they are (the labels field proves the expansion to a validator
// downstream), and the covering NSEC in the authority section. When the
// stored NSEC owned by the wildcard lacks the type (and CNAME), the
// answer is a wildcard NODATA (RFC 4035 §3.1.3.4): the SOA, the NSEC
// covering the name and the wildcard's NSEC. In an NSEC3 zone the
// wildcard is kept with the NSEC3 records of the answer, and a name is
// answered from it when a kept NSEC3, never an opt-out one, covers the
// name's next closer name below the wildcard's parent (fromWildcard3);
// there is no NSEC3 wildcard NODATA from the cache.

// learnWildcard keeps, from res, a Secure answer to q, the wildcard
// RRset it was expanded from and the NSEC records that prove the
// expansion. An answer that is not exactly one RRset at the name of q's
// type, signed by one zone as a wildcard expansion, is left alone (a
// CNAME chain, say).
func (r *Resolver) learnWildcard(q dns.Question, res Result) {
	if r.nsec == nil || res.Security != validate.Secure || res.Kind != KindAnswer || !synthesisable(q.Qtype) {
		return
	}
	name := dnsname.Canonical(q.Name)
	zone, labels, ok := expansion(res.Answer, name, q.Qtype)
	if !ok {
		return
	}
	ce := lastLabels(name, labels)
	if !dnsname.IsSubdomain(ce, zone) {
		return
	}
	wild := wildcardOf(ce)
	rrs := make([]dns.RR, len(res.Answer))
	for i, rr := range res.Answer {
		rrs[i] = dns.Copy(rr)
		rrs[i].Header().Name = wild
	}
	var proof [][]dns.RR
	for _, set := range zoneNSECs(res.Authority, zone).signed() {
		if s, ok := spanFrom(set); ok && mayDeny(s, name) && !dnsname.IsSubdomain(s.Next, name) && closestEncloser(s, name) == ce {
			proof = append(proof, set)
		}
	}
	if len(proof) > 0 {
		r.nsec.Add(zone, nil, proof, cache.MaxNegativeTTL)
		r.nsec.AddWildcard(zone, wild, q.Qtype, rrs, cache.MaxNegativeTTL)
	}
	if proof3 := zoneNSEC3s(res.Authority, zone).signed(); len(proof3) > 0 && r.nsec3 != nil {
		r.nsec3.Add(zone, nil, proof3, cache.MaxNegativeTTL)
		r.nsec3.AddWildcard(zone, wild, q.Qtype, rrs, cache.MaxNegativeTTL)
	}
}

// zoneNSEC3s gathers the NSEC3 records of authority owned by hashed
// names of zone and the RRSIGs over them signed by zone.
func zoneNSEC3s(authority []dns.RR, zone string) *denialSets {
	sets := &denialSets{}
	for _, rr := range authority {
		owner := dnsname.Canonical(rr.Header().Name)
		if owner == zone || dnsname.Parent(owner) != zone {
			continue
		}
		switch rr := rr.(type) {
		case *dns.NSEC3:
			sets.add(owner, rr)
		case *dns.RRSIG:
			if rr.TypeCovered == dns.TypeNSEC3 && dnsname.Canonical(rr.SignerName) == zone && int(rr.Labels) == dnsname.Labels(owner) {
				sets.add(owner, rr)
			}
		}
	}
	return sets
}

// synthesisable reports whether a question of type t may be answered
// from a wildcard: not DS (it lives in the parent zone, never at a
// wildcard), not ANY, and not the DNSSEC types whose records are not
// expanded (NSEC, RRSIG).
func synthesisable(t uint16) bool {
	switch t {
	case dns.TypeDS, dns.TypeANY, dns.TypeNSEC, dns.TypeRRSIG, dns.TypeNSEC3:
		return false
	}
	return true
}

// expansion returns the signer and RRSIG labels of answer when it is one
// RRset of qtype owned by name with RRSIGs all of one signer and one
// labels field below name's label count: a wildcard expansion.
func expansion(answer []dns.RR, name string, qtype uint16) (zone string, labels int, ok bool) {
	labels, data := -1, false
	for _, rr := range answer {
		if dnsname.Canonical(rr.Header().Name) != name {
			return "", 0, false
		}
		sig, isSig := rr.(*dns.RRSIG)
		switch {
		case !isSig:
			if rr.Header().Rrtype != qtype {
				return "", 0, false
			}
			data = true
		case sig.TypeCovered != qtype,
			labels >= 0 && (int(sig.Labels) != labels || dnsname.Canonical(sig.SignerName) != zone):
			return "", 0, false
		default:
			labels, zone = int(sig.Labels), dnsname.Canonical(sig.SignerName)
		}
	}
	if !data || labels < 0 || labels >= dnsname.Labels(name) {
		return "", 0, false
	}
	return zone, labels, true
}

// zoneNSECs gathers the NSEC records of authority owned in zone and the
// RRSIGs over them signed by zone (not as a wildcard expansion).
func zoneNSECs(authority []dns.RR, zone string) *denialSets {
	sets := &denialSets{}
	for _, rr := range authority {
		owner := dnsname.Canonical(rr.Header().Name)
		if !dnsname.IsSubdomain(owner, zone) {
			continue
		}
		switch rr := rr.(type) {
		case *dns.NSEC:
			sets.add(owner, rr)
		case *dns.RRSIG:
			if rr.TypeCovered == dns.TypeNSEC && dnsname.Canonical(rr.SignerName) == zone && int(rr.Labels) >= ownerLabels(owner) {
				sets.add(owner, rr)
			}
		}
	}
	return sets
}

// spanFrom returns the span of the one NSEC of set.
func spanFrom(set []dns.RR) (cache.NSECSpan, bool) {
	for _, rr := range set {
		if n, ok := rr.(*dns.NSEC); ok {
			return cache.NSECSpan{Owner: dnsname.Canonical(n.Hdr.Name), Next: dnsname.Canonical(n.NextDomain), Types: n.TypeBitMap}, true
		}
	}
	return cache.NSECSpan{}, false
}

// lastLabels returns the name made of the last n labels of name (all of
// them when it has fewer), in canonical form; "." for n <= 0. It cuts
// name in place: no allocation for a canonical name (QNAME minimisation
// asks it for every upstream query).
func lastLabels(name string, n int) string {
	if n <= 0 || name == "" || name == "." {
		return "."
	}
	name = dns.Fqdn(name)
	i, _ := dns.PrevLabel(name, n)
	return dnsname.Canonical(name[i:])
}

// fromWildcard answers q from a stored wildcard when a stored NSEC
// proves q's name absent and shows the wildcard at its closest encloser:
// the wildcard's RRset of q's type expanded to the name, or, when the
// wildcard's own NSEC lacks the type, a wildcard NODATA.
func (r *Resolver) fromWildcard(q dns.Question) (Result, bool) {
	if r.nsec == nil || !synthesisable(q.Qtype) {
		return Result{}, false
	}
	name := dnsname.Canonical(q.Name)
	zone, ok := r.nsec.SpanZone(name)
	if !ok {
		return Result{}, false
	}
	span, ok := r.nsec.Find(zone, name)
	if !ok || span.Owner == name || !mayDeny(span, name) || dnsname.IsSubdomain(span.Next, name) {
		return Result{}, false // the name exists, or is not proven absent
	}
	wild := wildcardOf(closestEncloser(span, name))
	if !dnsname.IsSubdomain(wild, zone) {
		return Result{}, false
	}
	if w, ok := r.nsec.Wildcard(zone, wild, q.Qtype); ok {
		return r.expanded(q.Name, w, span)
	}
	return r.wildcardNoData(zone, wild, q.Qtype, span)
}

// fromWildcard3 answers q from a wildcard kept with NSEC3 records: the
// deepest ancestor of the name holding a kept wildcard of q's type is
// the closest encloser when a kept NSEC3, not opt-out, covers the next
// closer name (RFC 5155 §8.8): nothing then exists between the wildcard's
// parent and the name. One hash, within maxAggressiveHashes.
func (r *Resolver) fromWildcard3(q dns.Question) (Result, bool) {
	if r.nsec3 == nil || !synthesisable(q.Qtype) {
		return Result{}, false
	}
	name := dnsname.Canonical(q.Name)
	zone, ok := r.nsec3.SpanZone(name)
	if !ok || name == zone {
		return Result{}, false
	}
	next := name
	for ce := dnsname.Parent(name); dnsname.IsSubdomain(ce, zone); ce = dnsname.Parent(ce) {
		if w, ok := r.nsec3.Wildcard(zone, wildcardOf(ce), q.Qtype); ok {
			nc, ok := r.coveringNextCloser(zone, next)
			if !ok {
				return Result{}, false
			}
			return r.expanded(q.Name, w, nc)
		}
		if ce == zone {
			break
		}
		next = ce
	}
	return Result{}, false
}

// coveringNextCloser returns the kept NSEC3 span of zone, not opt-out,
// with the zone's parameters, that covers the hash of next.
func (r *Resolver) coveringNextCloser(zone, next string) (cache.NSECSpan, bool) {
	last, ok := r.nsec3.Find(zone, lastHashedName(zone))
	if !ok {
		return cache.NSECSpan{}, false
	}
	params := nsec3Of(last)
	if params == nil || params.Hash != dns.SHA1 {
		return cache.NSECSpan{}, false
	}
	return r.covering3(zone, next, &nsec3Hasher{params: params, left: maxAggressiveHashes})
}

// expanded returns the Secure answer made from w for name, proven by
// span, every TTL the least time left of them all (RFC 8198 §5.4, §6).
func (r *Resolver) expanded(name string, w cache.Wildcard, span cache.NSECSpan) (Result, bool) {
	answer := make([]dns.RR, len(w.RRs))
	for i, rr := range w.RRs {
		answer[i] = rr // already a copy (cache.NSECs.Wildcard)
		answer[i].Header().Name = name
	}
	if !r.sameTTL(minTime(w.Expires, span.Expires), answer, span.RRs) {
		return Result{}, false
	}
	return Result{Kind: KindAnswer, Rcode: dns.RcodeSuccess, Answer: answer, Authority: span.RRs, Security: validate.Secure}, true
}

// wildcardNoData returns the Secure wildcard NODATA for qtype at a name
// that span proves absent: the stored NSEC owned by wild must lack qtype
// and CNAME (and NS: a wildcard delegation, RFC 4592 §4.2, is left to
// upstream), and the zone's SOA be live.
func (r *Resolver) wildcardNoData(zone, wild string, qtype uint16, span cache.NSECSpan) (Result, bool) {
	ws, ok := r.nsec.Find(zone, wild)
	if !ok || ws.Owner != wild || ws.Has(qtype) || ws.Has(dns.TypeCNAME) || ws.Has(dns.TypeNS) {
		return Result{}, false
	}
	soa, soaExpires, ok := r.nsec.SOA(zone)
	if !ok {
		return Result{}, false
	}
	auth := append(soa, span.RRs...)
	if ws.Owner != span.Owner {
		auth = append(auth, ws.RRs...)
	}
	if !r.sameTTL(minTime(soaExpires, minTime(span.Expires, ws.Expires)), auth) {
		return Result{}, false
	}
	return Result{Kind: KindNoData, Rcode: dns.RcodeSuccess, Authority: auth, Security: validate.Secure}, true
}

// sameTTL sets the TTL of every record of sets to the least of their
// TTLs and the time left before expires; false when none is left.
func (r *Resolver) sameTTL(expires time.Time, sets ...[]dns.RR) bool {
	ttl := uint32(max(expires.Sub(r.cfg.Now()), 0) / time.Second)
	for _, rrs := range sets {
		for _, rr := range rrs {
			ttl = min(ttl, rr.Header().Ttl)
		}
	}
	if ttl == 0 {
		return false
	}
	for _, rrs := range sets {
		for _, rr := range rrs {
			rr.Header().Ttl = ttl
		}
	}
	return true
}
