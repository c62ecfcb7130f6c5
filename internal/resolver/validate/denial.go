package validate

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/dnssec"
)

// proof is the verified denial material of one reply: the NSEC or the
// NSEC3 records of its authority section, each RRset signed by the zone.
type proof struct {
	zone  string
	nsec  []*dns.NSEC
	nsec3 *nsec3Proof
}

// noDataResult is what a NODATA proof showed.
type noDataResult uint8

const (
	// noData: the name exists without the type.
	noData noDataResult = iota
	// insecureDelegation: the name (asked for DS) is a delegation
	// without DS: the child is Insecure, the denial itself Secure.
	insecureDelegation
	// optOutSpan: the name lies in an NSEC3 opt-out span: it may be, or
	// be under, an unsigned delegation; the answer is Insecure.
	optOutSpan
)

// denial verifies the SOA, NSEC and NSEC3 RRsets of a negative reply's
// authority section with the keys of zone, and collects them. A reply
// with neither NSEC nor NSEC3 records gets EDE 12 (NSEC Missing).
func (st *state) denial(zone string, keys []*dnssec.PublicKey, auth []*rrset) (*proof, *failure) {
	p := &proof{zone: zone}
	var n3 []*dns.NSEC3
	for _, s := range auth {
		switch s.rtype {
		case dns.TypeSOA, dns.TypeNSEC, dns.TypeNSEC3:
		default:
			continue
		}
		if !dnsname.IsSubdomain(s.name, zone) {
			continue
		}
		if s.rtype == dns.TypeNSEC3 && len(n3) >= maxNSEC3PerProof {
			continue
		}
		if _, f := st.verify(s, zone, keys, st.now); f != nil {
			return nil, f
		}
		for _, rr := range s.rrs {
			switch rr := rr.(type) {
			case *dns.NSEC:
				p.nsec = append(p.nsec, rr)
			case *dns.NSEC3:
				n3 = append(n3, rr)
			}
		}
	}
	if len(n3) > 0 {
		np, f := st.newNSEC3Proof(zone, n3)
		if f != nil {
			return nil, f
		}
		p.nsec3 = np
	}
	if len(p.nsec) == 0 && p.nsec3 == nil {
		return nil, bogus(dns.ExtendedErrorCodeNSECMissing, "no NSEC or NSEC3 proof from %s", zone)
	}
	return p, nil
}

// proveNXDomain checks that p proves name does not exist (RFC 4035
// §5.4, RFC 5155 §8.4): name is covered, and so is the wildcard at its
// closest encloser. An opt-out span makes the answer Insecure.
func (st *state) proveNXDomain(p *proof, name string) *failure {
	if p.nsec3 != nil {
		return st.nsec3NXDomain(p.nsec3, name)
	}
	n := coveringNSEC(p.nsec, name)
	if n == nil {
		return bogus(dns.ExtendedErrorCodeNSECMissing, "no NSEC from %s covers %s", p.zone, name)
	}
	ce := closestEncloserNSEC(n, name)
	if ce == name {
		// The next name is below name: name is an empty non-terminal.
		return bogus(dns.ExtendedErrorCodeDNSBogus, "the NSEC from %s shows %s exists (an empty non-terminal): not NXDOMAIN", p.zone, name)
	}
	if matchingNSEC(p.nsec, wildcardAt(ce)) != nil {
		return bogus(dns.ExtendedErrorCodeDNSBogus, "wildcard *.%s exists: %s cannot be NXDOMAIN", ce, name)
	}
	if coveringNSEC(p.nsec, wildcardAt(ce)) == nil {
		return bogus(dns.ExtendedErrorCodeNSECMissing, "no NSEC from %s proves there is no wildcard *.%s", p.zone, ce)
	}
	return nil
}

// proveNameError checks an NXDOMAIN reply's proof for name and qtype: it
// returns the rcode the proof supports. A proof that name exists as an
// empty non-terminal without the type is a NODATA, whatever rcode the
// server set (some set NXDOMAIN for empty non-terminals): NOERROR, as
// Unbound has it; anything else is the NXDOMAIN proof's failure.
func (st *state) proveNameError(p *proof, name string, qtype uint16) (int, *failure) {
	f := st.proveNXDomain(p, name)
	if f == nil || f.sec != Bogus {
		return dns.RcodeNameError, f
	}
	if res, nf := st.proveNoData(p, name, qtype); nf == nil && res == noData {
		return dns.RcodeSuccess, nil
	}
	return dns.RcodeNameError, f
}

// proveNoData checks that p proves name exists without type t (RFC 4035
// §5.4, RFC 5155 §8.5-8.7): its own NSEC or NSEC3 lacks t and CNAME; or
// name is an empty non-terminal; or a wildcard matched without t; or, for
// DS, name is a delegation without DS or in an opt-out span.
func (st *state) proveNoData(p *proof, name string, t uint16) (noDataResult, *failure) {
	if p.nsec3 != nil {
		return st.nsec3NoData(p.nsec3, name, t)
	}
	if n := matchingNSEC(p.nsec, name); n != nil {
		return bitmapNoData(n.TypeBitMap, name, t, p.zone)
	}
	n := coveringNSEC(p.nsec, name)
	if n == nil {
		return 0, bogus(dns.ExtendedErrorCodeNSECMissing, "no NSEC from %s matches or covers %s", p.zone, name)
	}
	if dnsname.IsSubdomain(n.NextDomain, name) && dnsname.Canonical(n.NextDomain) != name {
		return noData, nil // empty non-terminal: a name below it exists
	}
	ce := closestEncloserNSEC(n, name)
	if w := matchingNSEC(p.nsec, wildcardAt(ce)); w != nil {
		return bitmapNoData(w.TypeBitMap, name, t, p.zone)
	}
	return 0, bogus(dns.ExtendedErrorCodeNSECMissing, "%s is covered by an NSEC but no wildcard NODATA proof", name)
}

// bitmapNoData decides a NODATA from the type bitmap of the NSEC or NSEC3
// record matching name.
func bitmapNoData(types []uint16, name string, t uint16, zone string) (noDataResult, *failure) {
	delegation := hasType(types, dns.TypeNS) && !hasType(types, dns.TypeSOA)
	switch {
	case hasType(types, t):
		return 0, bogus(dns.ExtendedErrorCodeDNSBogus, "the proof for %s lists type %s", name, dns.TypeToString[t])
	case hasType(types, dns.TypeCNAME):
		return 0, bogus(dns.ExtendedErrorCodeDNSBogus, "the proof for %s lists a CNAME", name)
	case t == dns.TypeDS && delegation:
		return insecureDelegation, nil
	case delegation && t != dns.TypeDS:
		return 0, bogus(dns.ExtendedErrorCodeDNSBogus, "%s: a delegation's NSEC from %s cannot deny child data", name, zone)
	}
	return noData, nil
}

// wildcardProof returns the NSEC and NSEC3 RRsets of auth that denial
// verified for the Secure RRset rs when rs was expanded from a wildcard
// (all its RRSIGs count fewer labels than its owner, so that
// positive checked the denial): the records that prove
// the name absent, which a wildcard answer carries (RFC 4035 §3.1.3.3)
// and a resolver may reuse (RFC 8198 §5.4). Nil for any other RRset.
func wildcardProof(rs *rrset, auth []*rrset) []dns.RR {
	labels := dnsname.Labels(rs.name)
	if strings.HasPrefix(rs.name, "*.") {
		labels--
	}
	if len(rs.sigs) == 0 {
		return nil
	}
	for _, sig := range rs.sigs {
		if int(sig.Labels) >= labels {
			return nil // maybe verified by this one, with no denial checked
		}
	}
	zone := rs.signer()
	var out []*rrset
	n3 := 0
	for _, s := range auth {
		if s.rtype != dns.TypeNSEC && s.rtype != dns.TypeNSEC3 || !dnsname.IsSubdomain(s.name, zone) {
			continue
		}
		if s.rtype == dns.TypeNSEC3 {
			if n3 >= maxNSEC3PerProof {
				continue // as denial: left unverified
			}
			n3 += len(s.rrs)
		}
		out = append(out, s)
	}
	return signed(out...)
}

// proveWildcard checks that an answer for qname made from a wildcard
// (its RRSIG has labels fewer than the owner) could not have come from a
// closer name (RFC 4035 §5.3.4, RFC 5155 §8.8): the name is covered, or,
// with NSEC3, the next closer name is.
func (st *state) proveWildcard(p *proof, qname string, labels uint8) *failure {
	if p.nsec3 != nil {
		return st.nsec3Wildcard(p.nsec3, qname, int(labels))
	}
	if coveringNSEC(p.nsec, qname) == nil {
		return bogus(dns.ExtendedErrorCodeNSECMissing, "wildcard answer for %s without an NSEC proving the name absent", qname)
	}
	return nil
}

// matchingNSEC returns the NSEC owned by name.
func matchingNSEC(ns []*dns.NSEC, name string) *dns.NSEC {
	for _, n := range ns {
		if dnsname.Canonical(n.Hdr.Name) == dnsname.Canonical(name) {
			return n
		}
	}
	return nil
}

// coveringNSEC returns the NSEC whose span strictly contains name, and
// that may deny it: not one at a delegation or DNAME above name, whose
// span holds the child zone's names (RFC 4035 §5.4).
func coveringNSEC(ns []*dns.NSEC, name string) *dns.NSEC {
	for _, n := range ns {
		owner, next := dnsname.Canonical(n.Hdr.Name), dnsname.Canonical(n.NextDomain)
		if dnsname.IsSubdomain(name, owner) && owner != name &&
			(hasType(n.TypeBitMap, dns.TypeDNAME) || hasType(n.TypeBitMap, dns.TypeNS) && !hasType(n.TypeBitMap, dns.TypeSOA)) {
			continue
		}
		after := dnsname.Compare(owner, name) < 0
		before := dnsname.Compare(name, next) < 0
		if dnsname.Compare(owner, next) < 0 {
			if after && before {
				return n
			}
		} else if after && dnsname.IsSubdomain(name, next) { // the last NSEC: next is the apex
			return n
		}
	}
	return nil
}

// closestEncloserNSEC returns the closest encloser of name that the
// covering NSEC n shows: the longest ancestor of name shared with n's
// owner or next name.
func closestEncloserNSEC(n *dns.NSEC, name string) string {
	a, b := commonAncestor(name, n.Hdr.Name), commonAncestor(name, n.NextDomain)
	if dnsname.Labels(b) > dnsname.Labels(a) {
		return b
	}
	return a
}

// commonAncestor returns the longest name that a and b are both at or
// below.
func commonAncestor(a, b string) string {
	a, b = dnsname.Canonical(a), dnsname.Canonical(b)
	n := dns.CompareDomainName(a, b)
	labels := dns.SplitDomainName(a)
	if n == 0 || len(labels) == 0 {
		return "."
	}
	return dnsname.Canonical(joinLabels(labels[len(labels)-n:]))
}

// joinLabels joins labels into a name.
func joinLabels(labels []string) string {
	s := ""
	for _, l := range labels {
		s += l + "."
	}
	return s
}

// wildcardAt returns the wildcard name at the closest encloser ce: "*."
// for the root.
func wildcardAt(ce string) string {
	if ce == "." {
		return "*."
	}
	return "*." + ce
}
