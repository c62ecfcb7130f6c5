package dnssec

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sort"
	"sync"

	"github.com/miekg/dns"
)

// The signed data of an RRSIG (RFC 4034 §3.1.8.1) is what its key
// signed: the RRSIG's RDATA without the signature, then each record of
// the RRset in canonical form (§6.2: owner in lower case, a wildcard
// expansion's owner put back to the wildcard, the RRSIG's original TTL,
// the domain names of some RDATA in lower case), sorted by RDATA (§6.3),
// duplicates once. miekg/dns builds it inside RRSIG.Verify, afresh for
// every key it is asked to try and into new buffers each time; a
// validator proving one answer per cache miss pays that for every
// answer. appendSignedData builds the same bytes once per signature into
// a reused buffer. Every byte of a record is still packed by miekg/dns
// (PackRR on a private copy: packing writes the copy's RDLENGTH), and
// records of types whose canonical form this file does not know go
// through miekg/dns's own construction (signedData in ed448.go), so the
// result is miekg/dns's byte for byte; TestSignedDataMatchesMiekg holds
// it to that.

// maxSignedDataScratch is the largest buffer the scratch pool keeps: an
// RRset of large records (a DNSKEY RRset of many RSA keys, a long TXT
// RRset) may need more once, but a buffer that size is dropped after use
// so the pool does not pin it. 8 KiB holds the RRsets of nearly every
// zone (a reply over UDP is at most 1,232 octets).
const maxSignedDataScratch = 8 << 10

// scratch holds the buffers of one verification.
type scratch struct {
	data  []byte   // the signed data
	recs  []byte   // the canonical records, before they are sorted
	spans []span   // where each record lies in recs
	sig   []byte   // the signature, decoded
	der   []byte   // an ECDSA signature in DER (verifyECDSA)
	key   []byte   // input of the memory's digest
	sort  spanSort // sorts spans by RDATA; kept here so sort.Sort does not allocate it
	a     dns.A    // canonicalCopy's copy of an A record
	aaaa  dns.AAAA // and of an AAAA record
}

// span is one canonical record in scratch.recs: [start, end), its RDATA
// from rdata.
type span struct{ start, rdata, end int }

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// getScratch returns an empty scratch from the pool.
func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// put returns s to the pool, unless one of its buffers grew past
// maxSignedDataScratch.
func (s *scratch) put() {
	if cap(s.data) > maxSignedDataScratch || cap(s.recs) > maxSignedDataScratch || cap(s.key) > maxSignedDataScratch {
		return
	}
	s.data, s.recs, s.spans, s.sig, s.der, s.key = s.data[:0], s.recs[:0], s.spans[:0], s.sig[:0], s.der[:0], s.key[:0]
	s.sort.recs, s.sort.spans = nil, nil
	s.a, s.aaaa = dns.A{}, dns.AAAA{} // no address of a caller's record kept
	scratchPool.Put(s)
}

// appendSignedData appends to buf the signed data of sig over rrset (an
// RRset that sigMatches accepted) and returns it. Errors are miekg/dns's
// packing errors: a record or name that cannot be put on the wire.
func appendSignedData(buf []byte, s *scratch, sig *dns.RRSIG, rrset []dns.RR) ([]byte, error) {
	for _, rr := range rrset {
		if !knownCanonicalForm(rr) {
			data, err := miekgSignedData(sig, rrset)
			return append(buf, data...), err
		}
	}
	buf = binary.BigEndian.AppendUint16(buf, sig.TypeCovered)
	buf = append(buf, sig.Algorithm, sig.Labels)
	buf = binary.BigEndian.AppendUint32(buf, sig.OrigTtl)
	buf = binary.BigEndian.AppendUint32(buf, sig.Expiration)
	buf = binary.BigEndian.AppendUint32(buf, sig.Inception)
	buf = binary.BigEndian.AppendUint16(buf, sig.KeyTag)
	buf, err := appendName(buf, dns.CanonicalName(sig.SignerName))
	if err != nil {
		return buf, err
	}
	owner := signedOwner(rrset[0].Header().Name, sig.Labels)
	recs, spans := s.recs[:0], s.spans[:0]
	for _, rr := range rrset {
		c := s.canonicalCopy(rr, owner, sig.OrigTtl)
		start, need := len(recs), dns.Len(c)+1
		recs = slices.Grow(recs, need)
		// Zeroed, as miekg/dns's new buffer is: a field miekg/dns skips
		// without writing (an A record holding an IPv6 address) must
		// not show the bytes of an earlier verification.
		area := recs[:start+need]
		clear(area[start:])
		end, err := dns.PackRR(c, area, start, nil, false)
		if err != nil {
			return buf, err
		}
		recs = recs[:end]
		spans = append(spans, span{start: start, rdata: end - int(c.Header().Rdlength), end: end})
	}
	s.recs, s.spans = recs, spans
	if len(spans) > 1 {
		s.sort.recs, s.sort.spans = recs, spans
		sort.Sort(&s.sort)
	}
	for i, sp := range spans {
		if i > 0 && bytes.Equal(recs[sp.start:sp.end], recs[spans[i-1].start:spans[i-1].end]) {
			continue // a duplicate record is signed once
		}
		buf = append(buf, recs[sp.start:sp.end]...)
	}
	return buf, nil
}

// miekgSignedData is the signed data of sig over rrset as miekg/dns
// builds it (signedData, ed448.go), for a key tag of 0 too, which
// miekg/dns's signing refuses: it is built with tag 1 and the two
// octets put back.
func miekgSignedData(sig *dns.RRSIG, rrset []dns.RR) ([]byte, error) {
	if sig.KeyTag != 0 {
		return signedData(sig, rrset)
	}
	s := *sig
	s.KeyTag = 1
	data, err := signedData(&s, rrset)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(data[rrsigKeyTagOffset:], 0)
	return data, nil
}

// rrsigKeyTagOffset is where the key tag lies in an RRSIG's RDATA: after
// the type covered (2 octets), algorithm, labels (1 each), original TTL,
// expiration and inception (4 each), RFC 4034 §3.1.
const rrsigKeyTagOffset = 2 + 1 + 1 + 4 + 4 + 4

// spanSort orders canonical records by their RDATA, as octet strings
// (RFC 4034 §6.3).
type spanSort struct {
	recs  []byte
	spans []span
}

func (s *spanSort) Len() int      { return len(s.spans) }
func (s *spanSort) Swap(i, j int) { s.spans[i], s.spans[j] = s.spans[j], s.spans[i] }
func (s *spanSort) Less(i, j int) bool {
	a, b := s.spans[i], s.spans[j]
	return bytes.Compare(s.recs[a.rdata:a.end], s.recs[b.rdata:b.end]) < 0
}

// appendName appends name in uncompressed wire form, packed by
// miekg/dns.
func appendName(buf []byte, name string) ([]byte, error) {
	start := len(buf)
	buf = slices.Grow(buf, len(name)+2) // a wire name is at most one octet longer than its text
	end, err := dns.PackDomainName(name, buf[:cap(buf)], start, nil, false)
	if err != nil {
		return buf, err
	}
	return buf[:end], nil
}

// signedOwner returns the owner the records of an RRset owned by name
// have in the signed data: name with its ASCII letters in lower case
// (dns.CanonicalName, as miekg/dns signs and verifies), or, when the RRSIG's
// labels field is smaller than name's label count (a wildcard
// expansion, RFC 4035 §5.3.2), the wildcard "*." and the last labels
// labels of name.
func signedOwner(name string, labels uint8) string {
	owner := dns.CanonicalName(name)
	if dns.CountLabel(owner) <= int(labels) {
		return owner
	}
	if labels == 0 {
		return "*."
	}
	off, _ := dns.PrevLabel(owner, int(labels))
	return "*." + owner[off:]
}

// knownCanonicalForm reports whether canonicalCopy knows the canonical
// form of rr's RDATA: types without domain names (or, like NSEC's next
// name, whose names keep their case, RFC 6840 §5.1), and the common
// types whose names are lowered. Others (MINFO, NAPTR, RP, SIG, ...) are
// left to miekg/dns.
func knownCanonicalForm(rr dns.RR) bool {
	switch rr.(type) {
	case *dns.A, *dns.AAAA, *dns.TXT, *dns.NSEC, *dns.NSEC3, *dns.NSEC3PARAM,
		*dns.DS, *dns.CDS, *dns.DNSKEY, *dns.CDNSKEY, *dns.TLSA, *dns.SSHFP, *dns.CAA, *dns.HINFO, *dns.ZONEMD,
		*dns.CNAME, *dns.NS, *dns.SOA, *dns.MX, *dns.PTR, *dns.SRV, *dns.DNAME:
		return true
	}
	return false
}

// canonicalCopy returns a copy of rr in canonical form (RFC 4034 §6.2):
// owner owner, TTL ttl, and the domain names of its RDATA in lower case
// for the types of knownCanonicalForm that have them. An A or AAAA
// record, the usual answer, is copied into s's own record, sharing the
// address, which packing only reads; the copy lives until the next call.
func (s *scratch) canonicalCopy(rr dns.RR, owner string, ttl uint32) dns.RR {
	hdr := dns.RR_Header{Name: owner, Rrtype: rr.Header().Rrtype, Class: rr.Header().Class, Ttl: ttl}
	switch x := rr.(type) {
	case *dns.A:
		s.a = dns.A{Hdr: hdr, A: x.A}
		return &s.a
	case *dns.AAAA:
		s.aaaa = dns.AAAA{Hdr: hdr, AAAA: x.AAAA}
		return &s.aaaa
	}
	c := dns.Copy(rr)
	h := c.Header()
	h.Name, h.Ttl = owner, ttl
	switch x := c.(type) {
	case *dns.CNAME:
		x.Target = dns.CanonicalName(x.Target)
	case *dns.NS:
		x.Ns = dns.CanonicalName(x.Ns)
	case *dns.SOA:
		x.Ns, x.Mbox = dns.CanonicalName(x.Ns), dns.CanonicalName(x.Mbox)
	case *dns.MX:
		x.Mx = dns.CanonicalName(x.Mx)
	case *dns.PTR:
		x.Ptr = dns.CanonicalName(x.Ptr)
	case *dns.SRV:
		x.Target = dns.CanonicalName(x.Target)
	case *dns.DNAME:
		x.Target = dns.CanonicalName(x.Target)
	}
	return c
}
