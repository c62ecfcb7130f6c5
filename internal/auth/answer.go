package auth

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// query is the state of one query while its reply is built.
type query struct {
	s    *Server
	req  *dns.Msg
	tcp  bool         // the reply goes over a stream: no UDP size limit
	q    dns.Question // the question as asked, case preserved
	edns edns         // what the query's OPT record asked for
	tsig *dns.TSIG    // the query's TSIG record, if any
	zone *zone.Zone   // the zone answering, once chosen
	rep  reply
	// proved are the nodes whose NSEC or NSEC3 records are in the
	// authority section already, so that a chain of links adds each once.
	proved []*zone.Node
}

// Answer builds the reply to r for a client on network, "udp" or "tcp"
// (any "tcp..." network is a stream), without any I/O. The reply fits the
// transport: over UDP at most min(max(512, the client's EDNS size),
// MaxUDPSize) octets, truncated with TC=1 when the full answer does not
// fit. Answer returns nil when r must get no reply at all: it is itself a
// response (QR=1).
//
// Answer never changes r or the zones' records.
func (s *Server) Answer(r *dns.Msg, network string) *dns.Msg {
	if r == nil || r.Response {
		return nil
	}
	q := &query{s: s, req: r, tcp: strings.HasPrefix(network, "tcp")}
	q.rep.start(r)
	switch q.classify() {
	case reqQuery:
		q.rep.do = q.edns.do
		q.lookup()
	case reqChaos:
		q.chaos()
	case reqFormErr:
		q.rep.msg.Rcode = dns.RcodeFormatError
	case reqBadVers:
		q.rep.msg.Rcode = dns.RcodeBadVers
	case reqNotImp:
		q.rep.msg.Rcode = dns.RcodeNotImplemented
	case reqBadKey:
		q.badKey()
	case reqRefused:
		q.rep.msg.Rcode = dns.RcodeRefused
	}
	q.rep.opt = q.replyOPT()
	return q.rep.finish(q.sizeLimit())
}

// sizeLimit is the largest reply the client takes on this transport
// (RFC 1035 §4.2.1, RFC 6891 §6.2.5), capped by MaxUDPSize for UDP.
func (q *query) sizeLimit() int {
	if q.tcp {
		return maxTCPSize
	}
	size := minUDPSize
	if q.edns.present && int(q.edns.size) > size {
		size = int(q.edns.size)
	}
	return min(size, q.s.maxUDP)
}
