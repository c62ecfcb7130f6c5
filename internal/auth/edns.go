package auth

import (
	"github.com/miekg/dns"
)

// edns is what the query's OPT record asked for (RFC 6891 §6.1).
type edns struct {
	present bool   // the query had one well-formed OPT record
	version uint8  // EDNS version; only 0 is spoken
	do      bool   // DNSSEC OK (RFC 3225), echoed in the reply
	size    uint16 // the client's UDP payload size
	nsid    bool   // the client asked for the NSID (RFC 5001)
}

// parseEDNS reads the query's OPT record. ok is false when the OPT records
// are malformed: more than one (RFC 6891 §6.1.1), one outside the
// additional section, or one whose owner is not the root (§6.1.2).
// Unknown options and flags are ignored (§6.1.2, §6.1.4).
func parseEDNS(r *dns.Msg) (e edns, ok bool) {
	if hasType(r.Answer, dns.TypeOPT) || hasType(r.Ns, dns.TypeOPT) {
		return edns{}, false
	}
	var opt *dns.OPT
	for _, rr := range r.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			continue
		}
		o, isOPT := rr.(*dns.OPT)
		if !isOPT || opt != nil || o.Hdr.Name != "." {
			return edns{}, false
		}
		opt = o
	}
	if opt == nil {
		return edns{}, true
	}
	e = edns{present: true, version: opt.Version(), do: opt.Do(), size: opt.UDPSize()}
	for _, o := range opt.Option {
		if o.Option() == dns.EDNS0NSID {
			e.nsid = true
		}
	}
	return e, true
}

// replyOPT returns the OPT record for the reply, or nil when the query
// had none: version 0, our UDP payload size, DO copied (RFC 3225 §3), all
// other flags clear, and the NSID when asked for and configured
// (RFC 5001 §2.1). A BADVERS reply carries no options. The extended rcode
// bits are set from the message's rcode when it is packed.
func (q *query) replyOPT() *dns.OPT {
	if !q.edns.present {
		return nil
	}
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: uint16(q.s.maxUDP)}}
	if q.edns.do {
		opt.SetDo()
	}
	if q.edns.nsid && q.s.nsid != "" && q.edns.version == 0 {
		opt.Option = []dns.EDNS0{&dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: q.s.nsid}}
	}
	return opt
}
