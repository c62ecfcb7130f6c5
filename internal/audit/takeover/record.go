package takeover

import (
	"fmt"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// Record is one record whose target the scanner checks: a CNAME, NS, MX
// or SRV record.
type Record struct {
	Owner  string // canonical owner name
	Type   uint16 // dns.TypeCNAME, TypeNS, TypeMX or TypeSRV
	Target string // canonical target name
	// Delegation marks an NS record below its zone's apex: the child
	// zone's servers are asked for its SOA too, to find a lame
	// delegation.
	Delegation bool
	// RR is the record in presentation format.
	RR   string
	File string
	Line int
}

// FromRR returns the Record of rr, and false when rr is not a CNAME, NS,
// MX or SRV record or points at the root ("." : a null MX or SRV, RFC
// 7505, RFC 2782).
func FromRR(rr dns.RR) (Record, bool) {
	var target string
	switch rr := rr.(type) {
	case *dns.CNAME:
		target = rr.Target
	case *dns.NS:
		target = rr.Ns
	case *dns.MX:
		target = rr.Mx
	case *dns.SRV:
		target = rr.Target
	default:
		return Record{}, false
	}
	if target == "." || target == "" {
		return Record{}, false
	}
	h := rr.Header()
	return Record{Owner: dns.CanonicalName(h.Name), Type: h.Rrtype, Target: dns.CanonicalName(target), RR: rr.String()}, true
}

// FromZone returns the records of z to check, in zone order: every
// CNAME, NS, MX and SRV record, NS records below the apex marked as
// delegations. Records below a zone cut (glue, occluded data) are not
// the zone's to answer and are skipped.
func FromZone(z *zone.Zone) []Record {
	var out []Record
	for _, zr := range z.Records {
		rec, ok := FromRR(zr.RR)
		if !ok {
			continue
		}
		if cut := z.CutAbove(rec.Owner); cut != nil && !(cut.Name == rec.Owner && rec.Type == dns.TypeNS) {
			continue
		}
		rec.Delegation = rec.Type == dns.TypeNS && rec.Owner != z.Origin
		rec.File, rec.Line = zr.File, zr.Line
		out = append(out, rec)
	}
	return out
}

// typeName returns the mnemonic of a record type.
func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}
