package dnssec

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/zone"
)

// Problem is one thing wrong with a signed zone.
type Problem struct {
	// Name is the owner name the problem is about.
	Name string
	// Type is the RR type concerned, 0 when the problem is about the
	// name (a missing NSEC record, say).
	Type uint16
	// Where is the file:line of the record concerned, "" when unknown
	// or when the problem is a missing record.
	Where string
	// Message says what is wrong.
	Message string
}

// String formats the problem as "name TYPE: message (file:line)".
func (p Problem) String() string {
	s := p.Name
	if p.Type != 0 {
		s += " " + dns.Type(p.Type).String()
	}
	s += ": " + p.Message
	if p.Where != "" {
		s += " (" + p.Where + ")"
	}
	return s
}

// Verify checks a signed zone as dnssec-verify does and returns every
// problem found, in canonical name order; none means the zone is
// correctly signed at time now. It checks that
//   - the apex has a DNSKEY RRset, signed by a key with the SEP flag of
//     each algorithm in it;
//   - every authoritative RRset (and the DS and NSEC RRsets of delegation
//     points) is signed by a key of every algorithm in the DNSKEY RRset,
//     with signatures that verify, are valid at now, and have the RRset's
//     TTL as original TTL; every record in an RRset has the same TTL;
//   - delegation NS RRsets, glue and occluded data carry no signatures;
//   - the NSEC chain, or the NSEC3 chain named by the NSEC3PARAM record,
//     covers exactly the names of the zone with the right type bitmaps,
//     and is closed.
func Verify(z *zone.Zone, now time.Time) []Problem {
	v := &verifier{z: z, now: now, kinds: classifyAll(z), where: map[dns.RR]string{}}
	for _, r := range z.Records {
		v.where[r.RR] = r.Where()
		if z.Node(r.RR.Header().Name) == nil {
			v.add(r.RR.Header().Name, r.RR.Header().Rrtype, r.RR, "record outside the zone %s", z.Origin)
		}
	}
	if !v.checkApex() {
		return v.sorted()
	}
	v.checkNodes()
	if v.z.Apex().Has(dns.TypeNSEC3PARAM) || v.countType(dns.TypeNSEC3) > 0 {
		v.checkNSEC3()
	} else {
		v.checkNSEC()
	}
	return v.sorted()
}

// verifier holds the state of one Verify call.
type verifier struct {
	z        *zone.Zone
	now      time.Time
	kinds    map[string]nodeKind
	where    map[dns.RR]string
	keys     []*dns.DNSKEY // the apex DNSKEY RRset
	pub      []*PublicKey  // keys, prepared for verifying
	algs     []uint8       // algorithms that must sign everything
	problems []Problem
}

// add records a problem about rr (or about name and type when rr is nil).
func (v *verifier) add(name string, t uint16, rr dns.RR, format string, args ...any) {
	p := Problem{Name: dnsname.Canonical(name), Type: t, Message: fmt.Sprintf(format, args...)}
	if rr != nil {
		p.Where = v.where[rr]
	}
	v.problems = append(v.problems, p)
}

// sorted returns the problems in canonical name order, keeping the order
// of the problems of one name.
func (v *verifier) sorted() []Problem {
	sort.SliceStable(v.problems, func(i, j int) bool {
		return dnsname.Compare(v.problems[i].Name, v.problems[j].Name) < 0
	})
	return v.problems
}

// countType returns the number of records of type t in the zone.
func (v *verifier) countType(t uint16) int {
	n := 0
	for _, name := range v.z.Names() {
		n += len(v.z.Node(name).RRsets[t])
	}
	return n
}

// checkApex checks the SOA and the DNSKEY RRset and sets v.keys and
// v.algs. It returns false when the zone cannot be verified further.
func (v *verifier) checkApex() bool {
	apex := v.z.Apex()
	if !apex.Has(dns.TypeSOA) {
		v.add(v.z.Origin, dns.TypeSOA, nil, "no SOA record at the apex")
	}
	rrs := apex.RRsets[dns.TypeDNSKEY]
	if len(rrs) == 0 {
		v.add(v.z.Origin, dns.TypeDNSKEY, nil, "no DNSKEY RRset at the apex: the zone is not signed")
		return false
	}
	seen := map[uint8]bool{}
	for _, rr := range rrs {
		k := rr.(*dns.DNSKEY)
		v.keys = append(v.keys, k)
		if k.Flags&FlagZone == 0 || k.Flags&FlagRevoke != 0 || k.Protocol != 3 || seen[k.Algorithm] {
			continue
		}
		seen[k.Algorithm] = true
		v.algs = append(v.algs, k.Algorithm)
		if !CanVerify(k.Algorithm) {
			v.add(v.z.Origin, dns.TypeDNSKEY, rr, "cannot verify algorithm %s of key %d", algorithmName(k.Algorithm), k.KeyTag())
		}
	}
	v.pub = PublicKeys(v.keys)
	sort.Slice(v.algs, func(i, j int) bool { return v.algs[i] < v.algs[j] })
	if len(v.algs) == 0 {
		v.add(v.z.Origin, dns.TypeDNSKEY, nil, "no usable zone key in the DNSKEY RRset")
		return false
	}
	v.checkSelfSigned(rrs)
	return true
}

// checkSelfSigned checks that, for each algorithm, a key with the SEP
// flag signs the DNSKEY RRset (dnssec-verify's "self-signed KSK" check).
func (v *verifier) checkSelfSigned(rrs []dns.RR) {
	for _, alg := range v.algs {
		ok := false
		for _, s := range v.z.Apex().Sigs[dns.TypeDNSKEY] {
			sig := s.(*dns.RRSIG)
			if sig.Algorithm != alg {
				continue
			}
			for _, k := range v.pub {
				if k.DNSKEY.Flags&FlagSEP != 0 && k.DNSKEY.Algorithm == alg && k.Tag == sig.KeyTag &&
					verifySig(sig, rrs, []*PublicKey{k}, v.now, 0, nil, nil) == nil {
					ok = true
				}
			}
		}
		if !ok {
			v.add(v.z.Origin, dns.TypeDNSKEY, nil, "no valid signature by a key with the SEP flag (KSK) of algorithm %s on the DNSKEY RRset", algorithmName(alg))
		}
	}
}

// checkNodes checks the RRsets and signatures at every name, verifying
// signatures on all cores. Problems keep canonical order.
func (v *verifier) checkNodes() {
	type task struct {
		name string
		t    uint16
	}
	var tasks []task
	for _, name := range v.z.Names() {
		n := v.z.Node(name)
		kind := v.kinds[name]
		if kind == kindOccluded {
			v.checkOccluded(n)
			continue
		}
		signed := map[uint16]bool{}
		for _, t := range signedTypes(n, kind) {
			signed[t] = true
			tasks = append(tasks, task{name, t})
		}
		for _, t := range sortedKeys(n.Sigs) {
			if _, has := n.RRsets[t]; !has {
				v.add(name, t, n.Sigs[t][0], "RRSIG covers %s, but the name has no %s records", dns.Type(t), dns.Type(t))
			} else if !signed[t] {
				v.add(name, t, n.Sigs[t][0], "signature on a delegation's %s RRset: only DS and NSEC are signed at a zone cut", dns.Type(t))
			}
		}
	}
	results := make([][]Problem, len(tasks))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(tasks), 1)) {
		wg.Go(func() {
			for i := range next {
				results[i] = v.checkRRset(v.z.Node(tasks[i].name), tasks[i].t)
			}
		})
	}
	for i := range tasks {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, ps := range results {
		v.problems = append(v.problems, ps...)
	}
}

// checkOccluded reports signatures and denial records at glue or
// occluded names, which a signer must leave alone.
func (v *verifier) checkOccluded(n *zone.Node) {
	for _, t := range sortedKeys(n.Sigs) {
		v.add(n.Name, t, n.Sigs[t][0], "signature on glue or occluded data (below a delegation or DNAME)")
	}
	for _, t := range []uint16{dns.TypeNSEC, dns.TypeNSEC3} {
		if rrs := n.RRsets[t]; len(rrs) > 0 {
			v.add(n.Name, t, rrs[0], "%s record at a glue or occluded name", dns.Type(t))
		}
	}
}

// checkRRset checks one RRset's TTLs and signatures: each algorithm of
// the DNSKEY RRset must give it a valid signature, and every signature
// must be valid. It only reads v, so it may run concurrently.
func (v *verifier) checkRRset(n *zone.Node, t uint16) []Problem {
	var ps []Problem
	add := func(rr dns.RR, format string, args ...any) {
		p := Problem{Name: n.Name, Type: t, Message: fmt.Sprintf(format, args...)}
		if rr != nil {
			p.Where = v.where[rr]
		}
		ps = append(ps, p)
	}
	rrset := n.RRsets[t]
	ttl := rrset[0].Header().Ttl
	for _, rr := range rrset[1:] {
		if rr.Header().Ttl != ttl {
			add(rr, "TTL %d differs from the RRset's TTL %d", rr.Header().Ttl, ttl)
		}
	}
	good, tried := map[uint8]bool{}, map[uint8]bool{}
	for _, s := range n.Sigs[t] {
		sig := s.(*dns.RRSIG)
		tried[sig.Algorithm] = true
		if err := v.checkSig(sig, rrset); err != nil {
			add(sig, "%v", trimPrefix(err))
			continue
		}
		good[sig.Algorithm] = true
	}
	for _, alg := range v.algs {
		// A failed signature is reported above; an algorithm without
		// any signature is reported here.
		if !good[alg] && !tried[alg] {
			add(nil, "not signed: no RRSIG by a key of algorithm %s", algorithmName(alg))
		}
	}
	return ps
}

// checkSig checks one RRSIG of an RRset in the zone: everything
// VerifyRRset checks, and that the signer is the apex, the labels field
// is the owner's (less a wildcard label), and the RRSIG's TTL and
// original TTL are the RRset's TTL.
func (v *verifier) checkSig(sig *dns.RRSIG, rrset []dns.RR) error {
	h := rrset[0].Header()
	labels := dns.CountLabel(h.Name)
	if l := dns.SplitDomainName(h.Name); len(l) > 0 && l[0] == "*" {
		labels--
	}
	switch {
	case dnsname.Canonical(sig.SignerName) != v.z.Origin:
		return fmt.Errorf("signer %s is not the zone apex %s", sig.SignerName, v.z.Origin)
	case int(sig.Labels) != labels:
		return fmt.Errorf("labels field %d, want %d for %s", sig.Labels, labels, h.Name)
	case sig.OrigTtl != h.Ttl:
		return fmt.Errorf("original TTL %d differs from the RRset's TTL %d", sig.OrigTtl, h.Ttl)
	case sig.Hdr.Ttl != h.Ttl:
		return fmt.Errorf("RRSIG TTL %d differs from the RRset's TTL %d (RFC 4034 §3)", sig.Hdr.Ttl, h.Ttl)
	case int32(sig.Expiration-sig.Inception) <= 0:
		return fmt.Errorf("expiration %s is not after inception %s", dns.TimeToString(sig.Expiration), dns.TimeToString(sig.Inception))
	}
	return verifySig(sig, rrset, v.pub, v.now, 0, nil, nil)
}

// trimPrefix drops the "dnssec: " prefix of an error message.
func trimPrefix(err error) string {
	s := err.Error()
	if len(s) > 8 && s[:8] == "dnssec: " {
		return s[8:]
	}
	return s
}

// sortedKeys returns the types of a node's map in ascending order.
func sortedKeys(m map[uint16][]dns.RR) []uint16 {
	ts := make([]uint16, 0, len(m))
	for t := range m {
		ts = append(ts, t)
	}
	sortTypes(ts)
	return ts
}

// isNSEC3Owner reports whether n holds only NSEC3 records: it is the
// hashed owner of an NSEC3 record, not a name of the zone's data.
func isNSEC3Owner(n *zone.Node) bool {
	if !n.Has(dns.TypeNSEC3) {
		return false
	}
	return len(n.RRsets) == 1
}

// checkNSEC checks the NSEC chain (RFC 4034 §4, RFC 4035 §2.3): every
// name with authoritative data or a delegation has one NSEC record whose
// type bitmap lists its types and whose next name is the next such name,
// the last pointing back to the apex.
func (v *verifier) checkNSEC() {
	var names []string
	for _, name := range v.z.Names() {
		n := v.z.Node(name)
		if v.kinds[name] == kindOccluded || len(n.RRsets) == 0 {
			continue
		}
		if isNSEC3Owner(n) {
			v.add(name, dns.TypeNSEC3, n.RRsets[dns.TypeNSEC3][0], "NSEC3 record in a zone without NSEC3PARAM")
			continue
		}
		names = append(names, name)
	}
	for i, name := range names {
		n := v.z.Node(name)
		rrs := n.RRsets[dns.TypeNSEC]
		switch {
		case len(rrs) == 0:
			v.add(name, dns.TypeNSEC, nil, "no NSEC record: the NSEC chain is broken")
			continue
		case len(rrs) > 1:
			v.add(name, dns.TypeNSEC, rrs[1], "%d NSEC records at one name", len(rrs))
		case len(n.RRsets) == 1:
			v.add(name, dns.TypeNSEC, rrs[0], "NSEC record at a name with no other data")
		}
		nsec := rrs[0].(*dns.NSEC)
		next := names[(i+1)%len(names)]
		if dnsname.Canonical(nsec.NextDomain) != next {
			v.add(name, dns.TypeNSEC, nsec, "next name %s, want %s", nsec.NextDomain, next)
		}
		want := nsecTypes(n, v.kinds[name])
		if have := typeList(setOf(nsec.TypeBitMap)); !sameTypes(have, want) {
			v.add(name, dns.TypeNSEC, nsec, "type bitmap %s, want %s", typesString(nsec.TypeBitMap), typesString(want))
		}
	}
	if n := v.countType(dns.TypeNSEC); n == 0 && len(names) > 0 {
		v.add(v.z.Origin, dns.TypeNSEC, nil, "no NSEC or NSEC3 chain: the zone cannot prove that names do not exist")
	}
}
