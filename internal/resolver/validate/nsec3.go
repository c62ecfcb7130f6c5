package validate

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// nsec3Proof is the NSEC3 records of one reply, all with the same
// parameters (RFC 5155 §8.2).
type nsec3Proof struct {
	zone  string
	recs  []*dns.NSEC3
	iter  uint16
	salt  string
	owner []string // the hash label of each record, upper case
}

// newNSEC3Proof checks the parameters of recs: SHA-1, the same
// iterations and salt throughout, at most maxNSEC3Iterations iterations.
// More iterations make the zone Insecure with EDE 27 (RFC 9276 §3.2); an
// unknown hash algorithm Insecure (RFC 5155 §8.1).
func (st *state) newNSEC3Proof(zone string, recs []*dns.NSEC3) (*nsec3Proof, *failure) {
	p := &nsec3Proof{zone: zone, iter: recs[0].Iterations, salt: recs[0].Salt}
	for _, r := range recs {
		switch {
		case r.Hash != dns.SHA1:
			return nil, insecure(0, "NSEC3 hash algorithm %d is unknown (RFC 5155 §8.1)", r.Hash)
		case r.Iterations != p.iter || !strings.EqualFold(r.Salt, p.salt):
			return nil, bogus(dns.ExtendedErrorCodeDNSBogus, "NSEC3 records of %s with different parameters", zone)
		}
		p.recs = append(p.recs, r)
		p.owner = append(p.owner, strings.ToUpper(dns.SplitDomainName(r.Hdr.Name)[0]))
	}
	if p.iter > maxNSEC3Iterations {
		return nil, insecure(dns.ExtendedErrorCodeUnsupportedNSEC3IterValue,
			"%s uses %d NSEC3 iterations, more than %d (RFC 9276)", zone, p.iter, maxNSEC3Iterations)
	}
	return p, nil
}

// hash returns the NSEC3 hash of name (upper-case base32hex), within
// maxHashesPerQuery hashes per client query (CVE-2023-50868).
func (st *state) hash(p *nsec3Proof, name string) (string, *failure) {
	k := [3]string{dnsname.Canonical(name), p.salt, strconv.Itoa(int(p.iter))}
	if h, ok := st.hashes[k]; ok {
		return h, nil
	}
	if st.work.Hashes >= maxHashesPerQuery {
		return "", bogus(dns.ExtendedErrorCodeDNSBogus, "NSEC3 hash limit of %d per query reached", maxHashesPerQuery)
	}
	st.work.Hashes++
	h := dns.HashName(k[0], dns.SHA1, p.iter, p.salt)
	if h == "" {
		return "", bogus(dns.ExtendedErrorCodeDNSBogus, "cannot hash %s", name)
	}
	if st.hashes == nil {
		st.hashes = map[[3]string]string{}
	}
	st.hashes[k] = h
	return h, nil
}

// match returns the NSEC3 record whose owner is the hash of name.
func (st *state) match(p *nsec3Proof, name string) (*dns.NSEC3, *failure) {
	h, f := st.hash(p, name)
	if f != nil {
		return nil, f
	}
	for i, r := range p.recs {
		if p.owner[i] == h {
			return r, nil
		}
	}
	return nil, nil
}

// cover returns the NSEC3 record whose span strictly contains the hash of
// name (the last record's span wraps around).
func (st *state) cover(p *nsec3Proof, name string) (*dns.NSEC3, *failure) {
	h, f := st.hash(p, name)
	if f != nil {
		return nil, f
	}
	for i, r := range p.recs {
		o, n := p.owner[i], strings.ToUpper(r.NextDomain)
		if o < n && o < h && h < n || o >= n && (h > o || h < n) {
			return r, nil
		}
	}
	return nil, nil
}

// closestEncloser finds the closest provable encloser of name (RFC 5155
// §8.3): the longest ancestor with a matching NSEC3, and the NSEC3
// covering the next closer name. ce == name when name itself matches.
func (st *state) closestEncloser(p *nsec3Proof, name string) (ce string, nc *dns.NSEC3, f *failure) {
	name = dnsname.Canonical(name)
	prev := ""
	for c := name; dnsname.IsSubdomain(c, p.zone); c = dnsname.Parent(c) {
		m, f := st.match(p, c)
		if f != nil {
			return "", nil, f
		}
		if m != nil {
			if c == name {
				return c, nil, nil
			}
			if hasType(m.TypeBitMap, dns.TypeDNAME) || hasType(m.TypeBitMap, dns.TypeNS) && !hasType(m.TypeBitMap, dns.TypeSOA) {
				return "", nil, bogus(dns.ExtendedErrorCodeDNSBogus, "closest encloser %s is a delegation or DNAME", c)
			}
			cov, f := st.cover(p, prev)
			if f != nil {
				return "", nil, f
			}
			if cov == nil {
				return "", nil, bogus(dns.ExtendedErrorCodeNSECMissing, "no NSEC3 covers the next closer name %s", prev)
			}
			return c, cov, nil
		}
		if c == "." {
			break
		}
		prev = c
	}
	return "", nil, bogus(dns.ExtendedErrorCodeNSECMissing, "no NSEC3 closest encloser proof for %s", name)
}

// optOut reports whether r has the opt-out flag (RFC 5155 §3.1.2.1).
func optOut(r *dns.NSEC3) bool { return r.Flags&1 != 0 }

// nsec3NXDomain: the closest encloser proof, and the wildcard at the
// closest encloser covered (RFC 5155 §8.4).
func (st *state) nsec3NXDomain(p *nsec3Proof, name string) *failure {
	ce, nc, f := st.closestEncloser(p, name)
	if f != nil {
		return f
	}
	if nc == nil {
		return bogus(dns.ExtendedErrorCodeDNSBogus, "%s exists (its NSEC3 matches): not NXDOMAIN", name)
	}
	w, f := st.cover(p, wildcardAt(ce))
	if f != nil {
		return f
	}
	if w == nil {
		return bogus(dns.ExtendedErrorCodeNSECMissing, "no NSEC3 proves there is no wildcard *.%s", ce)
	}
	if optOut(nc) {
		return insecure(0, "%s lies in an opt-out span of %s", name, p.zone)
	}
	return nil
}

// nsec3NoData: the NSEC3 of name lacks the type (§8.5, §8.6 for DS), or
// the wildcard at the closest encloser lacks it (§8.7), or an opt-out
// span covers the next closer name (§8.6). An opt-out span there makes
// even the wildcard proof Insecure (§9.2). For DS that span is the
// proof; for other types name may lie in an unsigned delegation the span
// hides, whose data the zone cannot deny: the caller makes the answer
// Insecure, as Unbound does (val_nsec3.c, nodata case 5), rather than
// Bogus.
func (st *state) nsec3NoData(p *nsec3Proof, name string, t uint16) (noDataResult, *failure) {
	m, f := st.match(p, name)
	if f != nil {
		return 0, f
	}
	if m != nil {
		return bitmapNoData(m.TypeBitMap, name, t, p.zone)
	}
	ce, nc, f := st.closestEncloser(p, name)
	if f != nil {
		return 0, f
	}
	w, f := st.match(p, wildcardAt(ce))
	switch {
	case f != nil:
		return 0, f
	case w != nil:
		res, f := bitmapNoData(w.TypeBitMap, name, t, p.zone)
		if f == nil && optOut(nc) {
			// RFC 5155 §9.2: no AD for a closest encloser proof whose
			// next closer name lies in an opt-out span.
			return optOutSpan, nil
		}
		return res, f
	case optOut(nc):
		return optOutSpan, nil
	}
	return 0, bogus(dns.ExtendedErrorCodeNSECMissing, "no NSEC3 proves %s has no %s", name, dns.TypeToString[t])
}

// nsec3Wildcard: for an answer from the wildcard with labels labels, the
// next closer name (labels+1 labels of qname) is covered (§8.8).
func (st *state) nsec3Wildcard(p *nsec3Proof, qname string, labels int) *failure {
	parts := dns.SplitDomainName(qname)
	if labels+1 > len(parts) {
		return bogus(dns.ExtendedErrorCodeDNSBogus, "bad RRSIG labels %d for %s", labels, qname)
	}
	nc := joinLabels(parts[len(parts)-labels-1:])
	c, f := st.cover(p, nc)
	if f != nil {
		return f
	}
	if c == nil {
		return bogus(dns.ExtendedErrorCodeNSECMissing, "wildcard answer for %s without an NSEC3 covering %s", qname, nc)
	}
	if optOut(c) {
		// The span may hide an unsigned delegation at the next closer
		// name, which would take precedence over the wildcard (as
		// Unbound has it).
		return insecure(0, "wildcard answer for %s: %s lies in an opt-out span", qname, nc)
	}
	return nil
}
