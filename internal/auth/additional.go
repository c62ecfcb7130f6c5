package auth

import (
	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// addAuthorityNS puts the zone's apex NS RRset in the authority section of
// a positive, authoritative answer that does not carry it already
// (Config.FullResponses; RFC 1034 §4.3.2 step 6, RFC 4035 Appendix B.1).
func (q *query) addAuthorityNS() {
	m := q.rep.msg
	if m.Rcode != dns.RcodeSuccess || !m.Authoritative || len(m.Answer) == 0 {
		return
	}
	if hasType(m.Ns, dns.TypeNS) || hasType(m.Ns, dns.TypeSOA) {
		return
	}
	apex := q.zone.Apex()
	for _, rr := range m.Answer {
		if rr.Header().Rrtype == dns.TypeNS && dnsname.Canonical(rr.Header().Name) == apex.Name {
			return
		}
	}
	if ns := apex.RRsets[dns.TypeNS]; len(ns) > 0 {
		q.rep.addAuthority(rrset{node: apex, rrs: ns})
	}
}

// addAdditional adds the addresses this zone holds for the names that NS,
// MX and SRV records of an authoritative reply point at (RFC 1034 §4.3.2
// step 6, RFC 2782), as optional records that go first when the reply
// must shrink. Names below a cut are glue, which only referrals carry
// (addGlue).
func (q *query) addAdditional() {
	m := q.rep.msg
	if !m.Authoritative {
		return
	}
	var seen []string
	for _, rr := range append(m.Answer[:len(m.Answer):len(m.Answer)], m.Ns...) {
		target := ""
		switch r := rr.(type) {
		case *dns.NS:
			target = r.Ns
		case *dns.MX:
			target = r.Mx
		case *dns.SRV:
			target = r.Target
		}
		target = dnsname.Canonical(target)
		if target == "" || target == "." || visited(seen, target) || !dnsname.IsSubdomain(target, q.zone.Origin) {
			continue
		}
		seen = append(seen, target)
		n := q.zone.Node(target)
		if n == nil || q.zone.CutAbove(target) != nil {
			continue
		}
		for _, t := range [2]uint16{dns.TypeA, dns.TypeAAAA} {
			if rrs := n.RRsets[t]; len(rrs) > 0 && !q.rep.hasGlue(rrs) {
				q.rep.addGlue(rrset{node: n, rrs: rrs}, false)
			}
		}
	}
}

// hasGlue reports whether the RRset rrs is among the reply's glue.
func (r *reply) hasGlue(rrs []dns.RR) bool {
	for _, g := range r.glue {
		if len(g.set.rrs) > 0 && g.set.rrs[0] == rrs[0] {
			return true
		}
	}
	return false
}
