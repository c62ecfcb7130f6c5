package resolver

import (
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/resolver/cache"
)

// replyKind is what a scrubbed upstream reply says (STYLE.md rule 5:
// classify, then switch).
type replyKind int

const (
	replyAnswer   replyKind = iota // the RRset asked for, maybe after a chain
	replyChain                     // a chain leading out of the zone
	replyNXDomain                  // the (last) name does not exist
	replyNoData                    // the name exists, without the type
	replyReferral                  // a zone cut below the zone asked
	replyLame                      // none of the above: not usable
)

var replyKindNames = [...]string{"answer", "chain", "nxdomain", "nodata", "referral", "lame"}

func (k replyKind) String() string { return replyKindNames[k] }

// classified is a reply after the bailiwick scrub, reduced to what the
// resolver may believe.
type classified struct {
	kind   replyKind
	chain  []dns.RR // CNAME, DNAME and synthesised CNAME links from the name asked
	cache  []dns.RR // the links to cache: those the server sent
	target string   // the name at the end of the chain (the name asked if none)
	answer []dns.RR // the RRset of (target, type)
	soa    *dns.SOA // the SOA proving a negative answer
	deleg  cache.Delegation
	loop   bool // the chain loops or exceeds maxChain within the reply
	empty  bool // nothing at all: a failure of this query, not lameness
	note   string
}

// scrub keeps the records of a section owned by names at or below zone,
// the zone the asked server is authoritative for, with owner names in
// lower case (0x20 echoes random case). Everything else a server says is
// out of its bailiwick and is dropped, never cached: the first defence
// against cache poisoning (RFC 5452 §6; Unbound iter_scrub.c).
func scrub(rrs []dns.RR, zone string) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		h := rr.Header()
		if h.Rrtype == dns.TypeOPT || !dnsname.IsSubdomain(dns.CanonicalName(h.Name), zone) {
			continue
		}
		rr = dns.Copy(rr)
		rr.Header().Name = dns.CanonicalName(h.Name)
		out = append(out, rr)
	}
	return dedup(out) // servers repeat records; an RRset is a set
}

// pairwiseDedupMax is the longest section dedup compares record by record
// (n²/2 comparisons of header and rdata, no allocation); longer ones go
// through dns.Dedup, which keys each record by its presentation form:
// linear, but formatting every record (an RRSIG's signature in base64)
// cost more than the comparisons for the few records of most replies.
const pairwiseDedupMax = 32

// dedup removes the records of rrs that repeat an earlier one (header and
// rdata equal, names compared without case, TTL aside), keeping the
// first with the lowest TTL of its repeats, as dns.Dedup does.
func dedup(rrs []dns.RR) []dns.RR {
	if len(rrs) > pairwiseDedupMax {
		return dns.Dedup(rrs, nil)
	}
	out := rrs[:0]
	for _, rr := range rrs {
		if i := slices.IndexFunc(out, func(kept dns.RR) bool { return dns.IsDuplicate(kept, rr) }); i >= 0 {
			h := out[i].Header()
			h.Ttl = min(h.Ttl, rr.Header().Ttl)
			continue
		}
		out = append(out, rr)
	}
	return out
}

// classify scrubs reply, the answer of a server of zone to sent, and
// says what it is. Only what lies on the path from the question is kept:
// the RRset asked for, the chain leading to it, the SOA of a negative
// answer, and a referral's NS set with glue for those NS names. Any other
// record — an unrelated answer, NS records in the authority section of an
// answer, addresses in the additional section — is ignored, so a forged
// reply for a random name (the Kaminsky attack) cannot plant anything
// beyond its own question.
func classify(zone string, sent, reply *dns.Msg) classified {
	if reply.Rcode != dns.RcodeSuccess && reply.Rcode != dns.RcodeNameError {
		return classified{kind: replyLame, note: "rcode " + dns.RcodeToString[reply.Rcode]}
	}
	q := sent.Question[0]
	answer := scrub(reply.Answer, zone)
	c := followChain(answer, dns.CanonicalName(q.Name), q.Qtype)
	if len(c.answer) > 0 {
		c.kind = replyAnswer
		return c
	}
	inZone := dnsname.IsSubdomain(c.target, zone)
	authority := scrub(reply.Ns, zone)
	if !inZone || c.loop {
		c.kind = replyChain
		return c
	}
	c.soa = findSOA(authority, c.target)
	if reply.Rcode == dns.RcodeNameError {
		c.kind = replyNXDomain
		return c
	}
	// A DS query goes to the parent, which answers it itself: a
	// "referral" to the child named in the question is a forgery or a
	// broken server, and must not replace the delegation.
	if len(c.chain) == 0 && c.soa == nil {
		if d, ok := referral(authority, scrub(reply.Extra, zone), zone, c.target); ok && !(q.Qtype == dns.TypeDS && d.Zone == c.target) {
			c.kind, c.deleg = replyReferral, d
			return c
		}
	}
	switch {
	case c.soa != nil, reply.Authoritative && (len(c.chain) > 0 || len(authority) > 0):
		// Without an SOA the denial is believed but not cached.
		c.kind = replyNoData
	case len(authority) == 0:
		// No data, no SOA, no referral: an empty reply proves nothing
		// (Unbound throws it away too); ask another server.
		c.kind, c.empty, c.note = replyLame, true, "empty reply"
	default:
		c.kind, c.note = replyLame, "no answer, no referral, no SOA"
	}
	return c
}

// followChain walks the answer section from name: DNAMEs (RFC 6672, the
// CNAME synthesised here, not taken from the server) and CNAMEs, then the
// RRset of qtype at the end. Records off that path are ignored.
func followChain(answer []dns.RR, name string, qtype uint16) classified {
	c := classified{target: name}
	seen := map[string]bool{name: true}
	for range maxChain + 1 {
		if set := rrset(answer, c.target, qtype); len(set) > 0 {
			c.answer = set
			return c
		}
		if d := findDNAME(answer, c.target); d != nil {
			newName := c.target[:len(c.target)-len(d.Hdr.Name)] + dns.CanonicalName(d.Target)
			if _, ok := dns.IsDomainName(newName); !ok || len(newName) > 255 {
				return c
			}
			synth := &dns.CNAME{Hdr: dns.RR_Header{Name: c.target, Rrtype: dns.TypeCNAME, Class: d.Hdr.Class, Ttl: d.Hdr.Ttl}, Target: newName}
			c.chain = append(c.chain, d, synth)
			c.cache = append(c.cache, d)
			c.target = newName
			if seen[c.target] {
				c.loop = true
				return c
			}
			seen[c.target] = true
			continue
		}
		if qtype == dns.TypeCNAME {
			return c
		}
		set := rrset(answer, c.target, dns.TypeCNAME)
		if len(set) != 1 {
			return c
		}
		c.chain = append(c.chain, set[0])
		c.cache = append(c.cache, set[0])
		c.target = dns.CanonicalName(set[0].(*dns.CNAME).Target)
		if seen[c.target] {
			c.loop = true // a CNAME loop inside the reply
			return c
		}
		seen[c.target] = true
	}
	c.loop = true // longer than any chain the resolver follows
	return c
}

// rrset returns the records of (name, qtype) in rrs; for ANY, all of
// name's records.
func rrset(rrs []dns.RR, name string, qtype uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		h := rr.Header()
		if h.Name == name && (h.Rrtype == qtype || qtype == dns.TypeANY && h.Rrtype != dns.TypeRRSIG) {
			out = append(out, rr)
		}
	}
	return out
}

// findDNAME returns a DNAME owned by a proper ancestor of name (a DNAME
// does not redirect its own owner, RFC 6672 §2.3).
func findDNAME(rrs []dns.RR, name string) *dns.DNAME {
	for _, rr := range rrs {
		d, ok := rr.(*dns.DNAME)
		if ok && d.Hdr.Name != name && dnsname.IsSubdomain(name, d.Hdr.Name) {
			return d
		}
	}
	return nil
}

// findSOA returns the SOA in authority whose owner is name or an
// ancestor of it: the zone that denies name.
func findSOA(authority []dns.RR, name string) *dns.SOA {
	for _, rr := range authority {
		if s, ok := rr.(*dns.SOA); ok && dnsname.IsSubdomain(name, s.Hdr.Name) {
			return s
		}
	}
	return nil
}

// referral returns the delegation in authority: an NS set owned by a zone
// strictly below zone and at or above name, with the glue for its names
// found in extra (already scrubbed to zone, so glue outside the asked
// server's bailiwick is gone). A referral sideways or upwards is no
// referral: the server is lame.
func referral(authority, extra []dns.RR, zone, name string) (cache.Delegation, bool) {
	var d cache.Delegation
	for _, rr := range authority {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		switch {
		case d.Zone == "":
			d.Zone = ns.Hdr.Name
		case d.Zone != ns.Hdr.Name:
			return cache.Delegation{}, false // two cuts in one referral
		}
		d.NS = append(d.NS, ns)
	}
	if d.Zone == "" || d.Zone == zone || !dnsname.IsSubdomain(d.Zone, zone) || !dnsname.IsSubdomain(name, d.Zone) {
		return cache.Delegation{}, false
	}
	for _, rr := range extra {
		h := rr.Header()
		if h.Rrtype != dns.TypeA && h.Rrtype != dns.TypeAAAA {
			continue
		}
		for _, ns := range d.NS {
			if strings.EqualFold(ns.Ns, h.Name) {
				d.Glue = append(d.Glue, rr)
				break
			}
		}
	}
	return d, true
}
