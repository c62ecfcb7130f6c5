package auth

import (
	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// dname answers a name below a DNAME (RFC 6672 §3.2): the DNAME record,
// then a CNAME for sname synthesised with the DNAME's TTL, pointing at
// sname with the DNAME owner replaced by its target. It returns that new
// name to go on with; when the new name would exceed 255 octets the reply
// is YXDOMAIN and the chain ends (RFC 6672 §2.2).
func (q *query) dname(sname string, res zone.Result) (next string, more bool) {
	owner := asAsked(sname, res.Node.Name)
	q.rep.addAnswer(rrset{node: res.Node, rrs: withOwner(res.Answer, owner)})
	d, ok := res.Answer[0].(*dns.DNAME)
	if !ok {
		return "", false
	}
	target := substitute(sname, owner, d.Target)
	if nameTooLong(target) {
		q.rep.msg.Rcode = dns.RcodeYXDomain
		return "", false
	}
	cname := &dns.CNAME{
		Hdr:    dns.RR_Header{Name: sname, Rrtype: dns.TypeCNAME, Class: d.Hdr.Class, Ttl: d.Hdr.Ttl},
		Target: target,
	}
	// The CNAME is synthesised: it is never signed (RFC 6672 §5.3.1).
	q.rep.addAnswer(rrset{rrs: []dns.RR{cname}})
	return target, true
}

// substitute replaces the suffix owner of sname with target: the labels
// of sname below owner, in their case as asked, then target.
func substitute(sname, owner, target string) string {
	prefix := sname
	if owner != "." {
		prefix = sname[:len(sname)-len(owner)] // ends in a dot
	}
	if target == "." {
		return prefix
	}
	return prefix + target
}

// nameTooLong reports whether name takes more than 255 octets in wire
// form. dns.PackDomainName itself does not enforce that bound.
func nameTooLong(name string) bool {
	var buf [2*maxNameOctets + 2]byte
	n, err := dns.PackDomainName(name, buf[:], 0, nil, false)
	return err != nil || n > maxNameOctets
}
