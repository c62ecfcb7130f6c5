package ratelimit

import (
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// DecideKey is the middleware's decision for a server that answers
// without a dns.Msg, from precompiled wire replies (internal/auth's fast
// path), which runs before any middleware and must not bypass the limit.
// It accounts a response under key, computed once with Classify from the
// response, about to go to client over network ("udp" or "tcp"), and says
// what to do with it, exactly as the middleware would for the same
// sequence of responses: a "tcp..." network is exempt (counted as Exempt,
// Answer), a UDP response is counted as Answered, Dropped or Slipped. On
// Slip, send SlipReply of the response. With Disabled it returns Answer
// and counts nothing; with LogOnly it counts and returns Answer. Cookies
// are the caller's business: a query with a valid server cookie should
// not come here (the fast path declines every query with an EDNS option).
func (l *Limiter) DecideKey(client netip.Addr, key Key, network string) Action {
	switch {
	case l.cfg.Disabled:
		return Answer
	case strings.HasPrefix(network, "tcp"):
		l.exempt.Add(1)
		return Answer
	}
	return l.decide(client, key)
}

// Wire-format layout SlipReply reads and rewrites (RFC 1035 §4.1).
const (
	headerLen = 12   // the fixed header
	tcBit     = 0x02 // TC, in header octet 2
	rrFixed   = 10   // type, class, TTL and RDLENGTH after an RR's owner
)

// SlipReply turns reply, a response in wire form, into the reply the
// middleware sends in its place when the limiter says Slip, and returns
// it: reply's header with TC set, its questions, and, when reply has an
// OPT record, one with the same UDP size, extended rcode, version and
// flags (DO) but no options. That is the middleware's slip reply octet for
// octet (when reply's questions are not compressed, as a packed reply's
// first question never is). It is about the size of the query, so it
// amplifies nothing, and tells a real client to retry over TCP.
//
// The rewrite is in place: the result shares reply's memory and is never
// longer, so a server can build the full reply in its buffer and slip it
// there without allocating. It reports false, leaving reply in an
// unspecified state, when reply is not a well-formed message: the caller
// then sends nothing.
func SlipReply(reply []byte) ([]byte, bool) {
	if len(reply) < headerLen {
		return nil, false
	}
	qd := int(binary.BigEndian.Uint16(reply[4:]))
	rrs := int(binary.BigEndian.Uint16(reply[6:])) + int(binary.BigEndian.Uint16(reply[8:]))
	ar := int(binary.BigEndian.Uint16(reply[10:]))
	off := headerLen
	for range qd {
		end, ok := skipName(reply, off)
		if !ok || end+4 > len(reply) {
			return nil, false
		}
		off = end + 4
	}
	qEnd := off
	for range rrs {
		var ok bool
		if off, ok = skipRR(reply, off); !ok {
			return nil, false
		}
	}
	opt := -1 // the last OPT record, as dns.Msg.IsEdns0 finds it
	for range ar {
		start := off
		var ok bool
		if off, ok = skipRR(reply, off); !ok {
			return nil, false
		}
		if reply[start] == 0 && binary.BigEndian.Uint16(reply[start+1:]) == dns.TypeOPT {
			opt = start
		}
	}
	reply[2] |= tcBit
	binary.BigEndian.PutUint16(reply[6:], 0)
	binary.BigEndian.PutUint16(reply[8:], 0)
	binary.BigEndian.PutUint16(reply[10:], 0)
	if opt < 0 {
		return reply[:qEnd], true
	}
	binary.BigEndian.PutUint16(reply[10:], 1)
	// Owner (the root), type, class (UDP size) and TTL (extended rcode,
	// version, flags); then RDLENGTH 0: no options.
	n := copy(reply[qEnd:], reply[opt:opt+1+rrFixed-2])
	binary.BigEndian.PutUint16(reply[qEnd+n:], 0)
	return reply[:qEnd+n+2], true
}

// skipRR returns the offset past the resource record at off in msg.
func skipRR(msg []byte, off int) (int, bool) {
	end, ok := skipName(msg, off)
	if !ok || end+rrFixed > len(msg) {
		return 0, false
	}
	end += rrFixed + int(binary.BigEndian.Uint16(msg[end+rrFixed-2:]))
	return end, end <= len(msg)
}

// skipName returns the offset past the domain name at off in msg: past its
// root label, or past the compression pointer that ends it.
func skipName(msg []byte, off int) (int, bool) {
	for n := 0; n <= 255; n++ { // a name has at most 128 labels: bound the walk
		if off >= len(msg) {
			return 0, false
		}
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1, true
		case l&0xC0 == 0xC0:
			return off + 2, off+2 <= len(msg)
		case l > 63:
			return 0, false // extended label types (RFC 6891 §5): not in a reply we made
		}
		off += 1 + l
	}
	return 0, false
}
