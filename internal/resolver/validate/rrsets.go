package validate

import (
	"slices"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// rrset is one RRset of a reply with the RRSIGs that cover it.
type rrset struct {
	name  string // canonical owner
	rtype uint16
	rrs   []dns.RR
	sigs  []*dns.RRSIG
}

// signer returns the signer name of the RRset's signatures (canonical),
// "" when it has none. Signatures naming different signers make it "?",
// which no zone matches.
func (s *rrset) signer() string {
	out := ""
	for _, sig := range s.sigs {
		n := dnsname.Canonical(sig.SignerName)
		switch {
		case out == "":
			out = n
		case out != n:
			return "?"
		}
	}
	return out
}

// groupRRsets splits a section into RRsets, attaching each RRSIG to the
// RRset it covers; RRSIGs covering nothing present are dropped, and so are
// OPT records.
func groupRRsets(section []dns.RR) []*rrset {
	var out []*rrset
	find := func(name string, t uint16) *rrset {
		for _, s := range out {
			if s.name == name && s.rtype == t {
				return s
			}
		}
		return nil
	}
	for _, rr := range section {
		h := rr.Header()
		if h.Rrtype == dns.TypeRRSIG || h.Rrtype == dns.TypeOPT {
			continue
		}
		name := dnsname.Canonical(h.Name)
		s := find(name, h.Rrtype)
		if s == nil {
			s = &rrset{name: name, rtype: h.Rrtype}
			out = append(out, s)
		}
		s.rrs = append(s.rrs, rr)
	}
	for _, rr := range section {
		if sig, ok := rr.(*dns.RRSIG); ok {
			if s := find(dnsname.Canonical(sig.Hdr.Name), sig.TypeCovered); s != nil {
				s.sigs = append(s.sigs, sig)
			}
		}
	}
	return out
}

// adoptSignatures attaches to sets the RRSIGs of the other sections that
// cover one of them (same owner, type covered) and that they lack. RFC
// 4035 §3.1.1 puts an RRSIG in its RRset's section, but Unbound's parser
// takes a signature from a later section for an RRset already seen
// (msgparse.c), and some servers and Unbound's own test scenarios rely on
// it. A signature still has to verify, so adopting one never makes data
// Secure that its keys did not sign.
func adoptSignatures(sets []*rrset, others ...[]dns.RR) {
	for _, section := range others {
		for _, rr := range section {
			sig, ok := rr.(*dns.RRSIG)
			if !ok {
				continue
			}
			s := pick(sets, dnsname.Canonical(sig.Hdr.Name), sig.TypeCovered)
			if s == nil || slices.ContainsFunc(s.sigs, func(x *dns.RRSIG) bool { return dns.IsDuplicate(x, sig) }) {
				continue
			}
			s.sigs = append(s.sigs, sig)
		}
	}
}

// pick returns the RRset of type t owned by name in sets, nil if none.
func pick(sets []*rrset, name string, t uint16) *rrset {
	for _, s := range sets {
		if s.name == name && s.rtype == t {
			return s
		}
	}
	return nil
}

// ofType returns the RRsets of type t in sets.
func ofType(sets []*rrset, t uint16) []*rrset {
	var out []*rrset
	for _, s := range sets {
		if s.rtype == t {
			out = append(out, s)
		}
	}
	return out
}

// plain returns the records of sets without their signatures.
func plain(sets ...*rrset) []dns.RR {
	var out []dns.RR
	for _, s := range sets {
		if s != nil {
			out = append(out, s.rrs...)
		}
	}
	return out
}

// hasType reports whether the type bitmap ts holds t.
func hasType(ts []uint16, t uint16) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// signed returns the records of sets followed by their signatures.
func signed(sets ...*rrset) []dns.RR {
	var out []dns.RR
	for _, s := range sets {
		if s == nil {
			continue
		}
		out = append(out, s.rrs...)
		for _, sig := range s.sigs {
			out = append(out, sig)
		}
	}
	return out
}

// denialSets returns the SOA, NSEC and NSEC3 RRsets of an authority
// section.
func denialSets(auth []*rrset) []*rrset {
	var out []*rrset
	for _, s := range auth {
		if s.rtype == dns.TypeSOA || s.rtype == dns.TypeNSEC || s.rtype == dns.TypeNSEC3 {
			out = append(out, s)
		}
	}
	return out
}
