package auth

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/zone"
)

// lookup answers a QUERY of class IN or ANY from the zone that holds the
// name. Names outside every zone are REFUSED: this server is not a
// resolver and has nothing to say about them.
func (q *query) lookup() {
	q.zone = q.pickZone()
	if q.zone == nil {
		q.rep.msg.Rcode = dns.RcodeRefused
		return
	}
	// A QCLASS=ANY answer can only be authoritative if it covers every
	// class (RFC 1034 §4.3.2 step 3a); it covers IN only.
	q.rep.msg.Authoritative = q.q.Qclass == dns.ClassINET
	q.resolve()
	if q.s.fullResponses {
		q.addAuthorityNS()
		q.addAdditional()
	}
}

// pickZone returns the zone to answer from: the closest enclosing zone,
// except that DS lives on the parent side of a cut, so a DS query at a
// zone's apex goes to the parent zone when that is hosted too
// (RFC 4035 §3.1.4.1). Without the parent, the child answers NODATA.
func (q *query) pickZone() *zone.Zone {
	set := q.s.zones.Load()
	z := set.Closest(q.q.Name)
	if z == nil || q.q.Qtype != dns.TypeDS || z.Origin == "." || !strings.EqualFold(z.Origin, q.q.Name) {
		return z
	}
	if parent := set.Closest(dnsname.Parent(z.Origin)); parent != nil {
		return parent
	}
	return z
}

// resolve looks up the query name and follows CNAME and DNAME links inside
// the zone (RFC 1034 §4.3.2 step 3, RFC 6672 §3.2), at most maxChainLinks
// of them and never a name twice. Each link's records go into the answer
// section; the last link's result decides the rest, rcode included
// (RFC 6604 §3). Links to names outside the zone are left to the client.
func (q *query) resolve() {
	var seen [maxChainLinks + 1]string
	sname := q.q.Name
	for link := 0; ; link++ {
		seen[link] = sname
		next, more := q.answerLink(sname, q.zone.Lookup(sname, q.q.Qtype), link)
		if !more || link == maxChainLinks || !dnsname.IsSubdomain(next, q.zone.Origin) || visited(seen[:link+1], next) {
			return
		}
		sname = next
	}
}

// answerLink is the one switch that turns a lookup result for sname into
// reply sections. It returns the name to look up next when the result is
// a CNAME or DNAME link.
func (q *query) answerLink(sname string, res zone.Result, link int) (next string, more bool) {
	switch res.Kind {
	case zone.Success:
		q.positive(sname, res)
		q.prove(sname, res)
	case zone.CNAME:
		q.rep.addAnswer(rrset{node: res.Node, rrs: withOwner(res.Answer, sname)})
		q.prove(sname, res)
		if c, ok := res.Answer[0].(*dns.CNAME); ok {
			return c.Target, true
		}
	case zone.DNAME:
		return q.dname(sname, res)
	case zone.Delegation:
		q.referral(sname, res, link)
	case zone.NoData:
		q.negative(sname, dns.RcodeSuccess)
		q.prove(sname, res)
	case zone.NameError:
		q.negative(sname, dns.RcodeNameError)
		q.prove(sname, res)
	}
	return "", false
}

// positive answers with the data found for sname, under sname as asked
// (wildcard answers included, RFC 4592 §3.3.1). An ANY query over UDP gets
// one RRset only (RFC 8482 §4.1); over TCP it gets everything.
func (q *query) positive(sname string, res zone.Result) {
	rrs := res.Answer
	if len(rrs) == 0 {
		q.negative(sname, dns.RcodeSuccess)
		return
	}
	if q.q.Qtype == dns.TypeANY && !q.tcp {
		rrs = firstRRset(rrs)
	}
	q.rep.addAnswer(rrset{node: res.Node, rrs: withOwner(rrs, sname)})
}

// negative answers NODATA (rcode NOERROR) or NXDOMAIN for sname, with the
// zone's SOA in the authority section. Its TTL is the smaller of the SOA's
// TTL and its MINIMUM field, the negative caching time (RFC 2308 §3).
func (q *query) negative(sname string, rcode int) {
	q.rep.msg.Rcode = rcode
	soa := q.zone.SOA()
	if soa == nil {
		return
	}
	owner := asAsked(sname, soa.Hdr.Name)
	var rr dns.RR = soa
	if ttl := min(soa.Hdr.Ttl, soa.Minttl); ttl != soa.Hdr.Ttl || owner != soa.Hdr.Name {
		c := dns.Copy(soa)
		c.Header().Ttl = ttl
		c.Header().Name = owner
		rr = c
	}
	q.rep.addAuthority(rrset{node: q.zone.Apex(), rrs: []dns.RR{rr}})
}

// referral answers from the parent side of a zone cut (RFC 1034 §4.3.2
// step 3b): the cut's NS RRset in the authority section, addresses of its
// name servers that this zone holds as glue, no SOA. It is not
// authoritative (AA=0) unless a CNAME or DNAME link of this zone led here.
func (q *query) referral(sname string, res zone.Result, link int) {
	if link == 0 {
		q.rep.msg.Authoritative = false
	}
	owner := asAsked(sname, res.Node.Name)
	q.rep.addAuthority(rrset{node: res.Node, rrs: withOwner(res.Answer, owner)})
	if q.rep.do {
		// The DS RRset, signed, links the child into the chain of trust;
		// without one, the proof that there is none makes the child
		// provably insecure (RFC 4035 §3.1.4).
		if ds := res.Node.RRsets[dns.TypeDS]; len(ds) > 0 {
			q.rep.addAuthority(rrset{node: res.Node, rrs: withOwner(ds, owner)})
		} else {
			q.proveNoDS(res.Node)
		}
	}
	q.addGlue(res.Node, res.Answer)
}

// addGlue adds the A and AAAA RRsets of the cut's name servers that the
// zone holds: first those inside the delegated zone, which the referral
// needs (in-domain glue), then the rest, such as names below other cuts
// of the zone (sibling glue), which it may lose to size (RFC 9471).
func (q *query) addGlue(cut *zone.Node, nsset []dns.RR) {
	for _, required := range [2]bool{true, false} {
		for _, rr := range nsset {
			ns, ok := rr.(*dns.NS)
			if !ok || dnsname.IsSubdomain(ns.Ns, cut.Name) != required || !dnsname.IsSubdomain(ns.Ns, q.zone.Origin) {
				continue
			}
			n := q.zone.Node(ns.Ns)
			if n == nil {
				continue
			}
			for _, t := range [2]uint16{dns.TypeA, dns.TypeAAAA} {
				if rrs := n.RRsets[t]; len(rrs) > 0 {
					q.rep.addGlue(rrset{node: n, rrs: rrs}, required)
				}
			}
		}
	}
}

// firstRRset returns the leading RRset of rrs, which holds whole RRsets in
// type order: the lowest type at the name is the minimal ANY answer.
func firstRRset(rrs []dns.RR) []dns.RR {
	t := rrs[0].Header().Rrtype
	n := 1
	for n < len(rrs) && rrs[n].Header().Rrtype == t {
		n++
	}
	return rrs[:n:n]
}

// visited reports whether name, compared without case, is among seen.
func visited(seen []string, name string) bool {
	for _, s := range seen {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}
