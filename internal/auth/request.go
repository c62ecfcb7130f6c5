package auth

import (
	"github.com/miekg/dns"
)

// requestKind classifies a request before any zone is looked at.
type requestKind int

const (
	// reqQuery is a QUERY of class IN or ANY: look it up in the zones.
	reqQuery requestKind = iota
	// reqChaos is a QUERY of class CH: the server's identity.
	reqChaos
	// reqFormErr is a malformed request: QDCOUNT not 1, a misplaced or
	// repeated OPT or TSIG record, or a meta type as QTYPE.
	reqFormErr
	// reqBadVers asks for an EDNS version above 0 (RFC 6891 §6.1.3).
	reqBadVers
	// reqNotImp is an opcode other than QUERY, or MAILA/MAILB.
	reqNotImp
	// reqBadKey is signed with TSIG; no key is configured (RFC 8945 §5.2.2).
	reqBadKey
	// reqRefused is a class not served, or a zone transfer.
	reqRefused
)

// classify checks the request in the order that decides its rcode: OPT
// and TSIG placement (RFC 6891 §6.1.1, RFC 8945 §5.1), TSIG key, EDNS
// version, opcode, question count, then the question itself.
func (q *query) classify() requestKind {
	r := q.req
	var ok bool
	if q.edns, ok = parseEDNS(r); !ok {
		return reqFormErr
	}
	if q.tsig, ok = findTSIG(r); !ok {
		return reqFormErr
	}
	switch {
	case q.tsig != nil:
		return reqBadKey
	case q.edns.present && q.edns.version > 0:
		return reqBadVers
	case r.Opcode != dns.OpcodeQuery:
		return reqNotImp
	case len(r.Question) != 1:
		return reqFormErr
	}
	q.q = r.Question[0]
	return classifyQuestion(q.q)
}

// classifyQuestion sorts a single question by type, then class.
func classifyQuestion(qq dns.Question) requestKind {
	switch qq.Qtype {
	case dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY:
		// Meta types that only exist in the additional section
		// (RFC 6895 §3.1) make no sense as a question.
		return reqFormErr
	case dns.TypeMAILA, dns.TypeMAILB:
		return reqNotImp
	case dns.TypeAXFR, dns.TypeIXFR:
		// Transfers are refused until an ACL or TSIG key allows them
		// (LIMITS.md, Authoritative).
		return reqRefused
	}
	switch qq.Qclass {
	case dns.ClassINET, dns.ClassANY:
		return reqQuery
	case dns.ClassCHAOS:
		return reqChaos
	}
	return reqRefused
}

// findTSIG returns the query's TSIG record, or nil. ok is false when a
// TSIG record is anywhere but last in the additional section, there is
// more than one (RFC 8945 §5.1), or it has no RDATA to interpret (§5.2).
func findTSIG(r *dns.Msg) (t *dns.TSIG, ok bool) {
	if hasType(r.Answer, dns.TypeTSIG) || hasType(r.Ns, dns.TypeTSIG) {
		return nil, false
	}
	for i, rr := range r.Extra {
		if rr.Header().Rrtype != dns.TypeTSIG {
			continue
		}
		t, isTSIG := rr.(*dns.TSIG)
		if !isTSIG || i != len(r.Extra)-1 || t.Algorithm == "" {
			return nil, false // misplaced, or empty RDATA: cannot be interpreted (§5.2)
		}
		return t, true
	}
	return nil, true
}

// badKey answers a signed query: no TSIG key is configured yet, so every
// key is unknown. The reply is NOTAUTH with an unsigned TSIG record
// carrying error BADKEY (RFC 8945 §5.2.2, §5.3.2).
func (q *query) badKey() {
	t := q.tsig
	q.rep.msg.Rcode = dns.RcodeNotAuth
	q.rep.tsig = &dns.TSIG{
		Hdr:        dns.RR_Header{Name: t.Hdr.Name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm:  t.Algorithm,
		TimeSigned: t.TimeSigned,
		Fudge:      t.Fudge,
		OrigId:     t.OrigId,
		Error:      dns.RcodeBadKey,
	}
}

// hasType reports whether rrs holds a record of type t.
func hasType(rrs []dns.RR, t uint16) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			return true
		}
	}
	return false
}
