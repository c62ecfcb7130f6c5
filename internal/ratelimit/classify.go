package ratelimit

import (
	"strings"

	"github.com/miekg/dns"
)

// Class is the kind of response, one of the categories BIND's RRL limits
// separately (BIND 9 ARM, "Response Rate Limiting"). Responses of one class
// to one client prefix with the same Key share a budget.
type Class uint8

// The response classes.
const (
	// Positive: a non-empty answer. Keyed by qname and qtype: a flood
	// repeats one large answer (DNSKEY, ANY) to the victim.
	Positive Class = iota + 1
	// NoData: NOERROR without answers or referral. Keyed by qname.
	NoData
	// NXDomain: keyed by the zone (the owner of the SOA record in the
	// authority section), so random names under one zone share one budget.
	NXDomain
	// Referral: keyed by the delegation point (the owner of the NS records).
	Referral
	// Error: SERVFAIL, FORMERR, REFUSED, NOTIMP and any other rcode. One
	// budget per prefix, whatever the name.
	Error
)

// String returns the class's name, as counters and logs show it.
func (c Class) String() string {
	switch c {
	case Positive:
		return "positive"
	case NoData:
		return "nodata"
	case NXDomain:
		return "nxdomain"
	case Referral:
		return "referral"
	case Error:
		return "error"
	}
	return "unknown"
}

// Key says which responses share a budget within a client prefix: the class,
// and for some classes a lowercased name and a type.
type Key struct {
	Class Class
	Name  string // "" for Error
	Type  uint16 // qtype for Positive, 0 otherwise
}

// Classify types a response (STYLE.md rule 5) and returns the key RRL
// accounts it under.
func Classify(m *dns.Msg) Key {
	var qname string
	var qtype uint16
	if len(m.Question) > 0 {
		qname, qtype = strings.ToLower(m.Question[0].Name), m.Question[0].Qtype
	}
	switch m.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		if soa := owner(m.Ns, dns.TypeSOA); soa != "" {
			return Key{Class: NXDomain, Name: soa}
		}
		return Key{Class: NXDomain, Name: qname}
	default:
		return Key{Class: Error}
	}
	switch {
	case len(m.Answer) > 0:
		return Key{Class: Positive, Name: qname, Type: qtype}
	case owner(m.Ns, dns.TypeSOA) == "" && owner(m.Ns, dns.TypeNS) != "":
		return Key{Class: Referral, Name: owner(m.Ns, dns.TypeNS)}
	}
	return Key{Class: NoData, Name: qname}
}

// owner returns the lowercased owner of the first record of type t in rrs,
// or "".
func owner(rrs []dns.RR, t uint16) string {
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			return strings.ToLower(rr.Header().Name)
		}
	}
	return ""
}
