package auth

import (
	"strings"

	"github.com/miekg/dns"
)

// chaos answers the CHAOS-class identity queries that operators and
// monitoring use: version.bind and version.server with Config.Version,
// hostname.bind and id.server with Config.ID (RFC 4892 §2). Names that are
// not configured, and every other CHAOS name, are REFUSED.
func (q *query) chaos() {
	var text string
	switch strings.ToLower(q.q.Name) {
	case "version.bind.", "version.server.":
		text = q.s.version
	case "hostname.bind.", "id.server.":
		text = q.s.id
	}
	if text == "" {
		q.rep.msg.Rcode = dns.RcodeRefused
		return
	}
	q.rep.msg.Authoritative = true
	if q.q.Qtype != dns.TypeTXT && q.q.Qtype != dns.TypeANY {
		return // the name exists; it has no other data
	}
	txt := &dns.TXT{
		Hdr: dns.RR_Header{Name: q.q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS},
		Txt: []string{text},
	}
	q.rep.addAnswer(rrset{rrs: []dns.RR{txt}})
}

// escapeTXT escapes s for a dns.TXT string, which holds presentation
// form: a backslash would otherwise start an escape sequence.
func escapeTXT(s string) string {
	return strings.ReplaceAll(s, `\`, `\\`)
}
