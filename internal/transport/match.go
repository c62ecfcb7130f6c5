package transport

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// match decodes b and reports whether it is the reply to q: the same ID,
// the QR bit set, and the same question section, names compared case for
// case so that a randomised-case (0x20) query cannot be answered by a
// guess (RFC 5452 sections 4.3 and 9.1). q must be the query as decoded
// from its own wire form, so that both sides are in the same presentation.
//
// A reply whose records do not decode is still accepted when its header has
// TC set and its question matches: it carries no data, only the request to
// retry over TCP, so its partial sections are dropped.
func match(q *dns.Msg, b []byte) (*dns.Msg, bool) {
	if len(b) < headerLen || binary.BigEndian.Uint16(b) != q.Id {
		return nil, false
	}
	r := new(dns.Msg)
	if err := r.Unpack(b); err != nil {
		if !r.Truncated {
			return nil, false
		}
		r.Answer, r.Ns, r.Extra = nil, nil, nil
	}
	if !r.Response || !sameQuestion(q.Question, r.Question) {
		return nil, false
	}
	return r, true
}

// sameQuestion reports whether two question sections are identical, names
// compared byte for byte (not case-folded).
func sameQuestion(a, b []dns.Question) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Qtype != b[i].Qtype || a[i].Qclass != b[i].Qclass {
			return false
		}
	}
	return true
}
