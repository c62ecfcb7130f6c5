package dnssec

import (
	"sort"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/zone"
)

// nodeKind says what DNSSEC makes of one owner name of a zone.
type nodeKind uint8

const (
	// kindAuth is the apex or a name with authoritative data (or an
	// empty non-terminal above such names): every RRset is signed and the
	// name is in the NSEC or NSEC3 chain.
	kindAuth nodeKind = iota
	// kindCut is a delegation point: only its DS RRset is signed, its NS
	// RRset and glue are not (RFC 4035 §2.2); it is in the chain.
	kindCut
	// kindOccluded is a name below a delegation point or a DNAME: glue or
	// data the zone does not serve authoritatively (RFC 6672 §2.3). It is
	// neither signed nor in the chain.
	kindOccluded
)

// classify returns the kind of the name in z.
func classify(z *zone.Zone, name string) nodeKind {
	if name == z.Origin {
		return kindAuth
	}
	for a := dnsname.Parent(name); ; a = dnsname.Parent(a) {
		if n := z.Node(a); n != nil {
			if n.Has(dns.TypeDNAME) || (a != z.Origin && n.Has(dns.TypeNS)) {
				return kindOccluded
			}
		}
		if a == z.Origin || a == "." {
			break
		}
	}
	if n := z.Node(name); n != nil && n.Has(dns.TypeNS) {
		return kindCut
	}
	return kindAuth
}

// classifyAll returns the kind of every name of z.
func classifyAll(z *zone.Zone) map[string]nodeKind {
	kinds := make(map[string]nodeKind, len(z.Names()))
	for _, name := range z.Names() {
		kinds[name] = classify(z, name)
	}
	return kinds
}

// isDNSSECType reports whether t is a record type the signer makes and
// therefore removes from its input: RRSIG, NSEC, NSEC3, NSEC3PARAM and
// DNSKEY.
func isDNSSECType(t uint16) bool {
	switch t {
	case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM, dns.TypeDNSKEY:
		return true
	}
	return false
}

// signedTypes returns the types of node n whose RRsets are signed, given
// its kind, in ascending order: all of them for authoritative data, only
// DS and NSEC at a delegation point, none when occluded.
func signedTypes(n *zone.Node, kind nodeKind) []uint16 {
	var ts []uint16
	for t := range n.RRsets {
		switch kind {
		case kindAuth:
			ts = append(ts, t)
		case kindCut:
			if t == dns.TypeDS || t == dns.TypeNSEC {
				ts = append(ts, t)
			}
		}
	}
	sortTypes(ts)
	return ts
}

// nsecTypes returns the type bitmap of the NSEC record at n (RFC 4034
// §4.1.2): the types present plus NSEC and RRSIG, and at a delegation
// point only NS, DS, NSEC and RRSIG.
func nsecTypes(n *zone.Node, kind nodeKind) []uint16 {
	set := map[uint16]bool{dns.TypeNSEC: true, dns.TypeRRSIG: true}
	for t := range n.RRsets {
		if kind == kindCut && t != dns.TypeNS && t != dns.TypeDS {
			continue
		}
		if t == dns.TypeNSEC3 || t == dns.TypeRRSIG {
			continue
		}
		set[t] = true
	}
	return typeList(set)
}

// nsec3Types returns the type bitmap of the NSEC3 record for n (RFC 5155
// §3.2): the types present, RRSIG when the name has signed RRsets; at a
// delegation point NS and DS (RRSIG only with a DS); nothing for an empty
// non-terminal.
func nsec3Types(n *zone.Node, kind nodeKind) []uint16 {
	set := map[uint16]bool{}
	for t := range n.RRsets {
		switch {
		case t == dns.TypeNSEC || t == dns.TypeNSEC3 || t == dns.TypeRRSIG:
		case kind == kindCut && t != dns.TypeNS && t != dns.TypeDS:
		default:
			set[t] = true
		}
	}
	if (kind == kindCut && set[dns.TypeDS]) || (kind == kindAuth && len(set) > 0) {
		set[dns.TypeRRSIG] = true
	}
	return typeList(set)
}

// typeList returns the members of set in ascending order.
func typeList(set map[uint16]bool) []uint16 {
	ts := make([]uint16, 0, len(set))
	for t := range set {
		ts = append(ts, t)
	}
	sortTypes(ts)
	return ts
}

func sortTypes(ts []uint16) {
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
}

// sameTypes reports whether two ascending type lists are equal.
func sameTypes(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// typesString formats a type list as in an NSEC record: "A NS RRSIG".
func typesString(ts []uint16) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += " "
		}
		s += dns.Type(t).String()
	}
	if s == "" {
		return "(none)"
	}
	return s
}

// CanonicalRecords returns every record of z in the order of a signed
// master file: names in canonical order (RFC 4034 §6.1), the apex SOA
// first, then types in ascending order, each RRset followed by the RRSIGs
// that cover it. Records of an RRset are in canonical RDATA order.
func CanonicalRecords(z *zone.Zone) []dns.RR {
	out := make([]dns.RR, 0, len(z.Records))
	for _, name := range z.Names() {
		n := z.Node(name)
		types := map[uint16]bool{}
		for t := range n.RRsets {
			types[t] = true
		}
		for t := range n.Sigs {
			types[t] = true
		}
		ts := typeList(types)
		if name == z.Origin && types[dns.TypeSOA] {
			// The SOA opens a master file.
			ts = append([]uint16{dns.TypeSOA}, removeType(ts, dns.TypeSOA)...)
		}
		for _, t := range ts {
			out = append(out, sortedRRs(n.RRsets[t])...)
			out = append(out, sortedRRs(n.Sigs[t])...)
		}
	}
	return out
}

func removeType(ts []uint16, t uint16) []uint16 {
	out := ts[:0:0]
	for _, x := range ts {
		if x != t {
			out = append(out, x)
		}
	}
	return out
}

// sortedRRs returns rrs sorted by their packed RDATA, the canonical order
// of RFC 4034 §6.3 (names in RDATA compared as written): a sorted copy, or
// rrs itself when it has fewer than two records, as most RRsets of a
// large zone do. Callers must not modify the result.
func sortedRRs(rrs []dns.RR) []dns.RR {
	if len(rrs) < 2 {
		return rrs
	}
	out := append([]dns.RR(nil), rrs...)
	keys := make(map[dns.RR]string, len(out))
	for _, rr := range out {
		keys[rr] = rdataKey(rr)
	}
	sort.SliceStable(out, func(i, j int) bool { return keys[out[i]] < keys[out[j]] })
	return out
}

// rdataKey returns the packed RDATA of rr, for sorting. It packs a copy:
// dns.PackRR writes the RDATA length into the header it packs, and zones
// are shared between goroutines.
func rdataKey(rr dns.RR) string {
	rr = dns.Copy(rr)
	buf := make([]byte, dns.Len(rr)+1)
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return rr.String()
	}
	hdr := len(buf[:off]) - int(rr.Header().Rdlength)
	if hdr < 0 {
		return rr.String()
	}
	return string(buf[hdr:off])
}
