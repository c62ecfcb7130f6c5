package validate

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// answer validates the reply to name and qtype, following CNAME and
// DNAME links across zones (each link proven in its own zone). It ends
// Secure when every link and the final answer or denial is proven, and at
// the first link that is not.
func (st *state) answer(name string, qtype uint16) Verdict {
	if qtype == dns.TypeRRSIG {
		// RRSIGs are not RRsets a key signs (RFC 4035 §5.3.1): there is
		// nothing to prove, and nothing to mark Secure.
		return Verdict{Security: Indeterminate}
	}
	var chain []dns.RR
	for links := 0; ; links++ {
		if links > maxChain {
			return verdictOf(bogus(dns.ExtendedErrorCodeDNSBogus, "CNAME/DNAME chain longer than %d links", maxChain))
		}
		m, f := st.fetch(name, qtype)
		if f != nil {
			return verdictOf(f)
		}
		ans, auth := groupRRsets(m.Answer), groupRRsets(m.Ns)
		adoptSignatures(ans, m.Ns, m.Extra)
		if rs := pick(ans, name, qtype); rs != nil && m.Rcode == dns.RcodeSuccess {
			if f := st.positive(rs, name, auth); f != nil {
				return unproven(f, m.Rcode, append(chain, signed(rs)...), nil)
			}
			return Verdict{Security: Secure, Rcode: dns.RcodeSuccess, Answer: append(chain, signed(rs)...),
				Authority: wildcardProof(rs, auth)}
		}
		if qtype == dns.TypeANY && m.Rcode == dns.RcodeSuccess && len(ans) > 0 {
			return st.anyAnswer(ans, name, auth, chain)
		}
		if dn := dnameAbove(ans, name); dn != nil {
			target, f := st.dname(dn, name)
			if f != nil {
				return unproven(f, m.Rcode, append(chain, signed(dn)...), nil)
			}
			cn := &dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: dn.rrs[0].Header().Ttl}, Target: target}
			chain = append(chain, append(signed(dn), cn)...)
			name = target
			continue
		}
		if cn := pick(ans, name, dns.TypeCNAME); cn != nil && qtype != dns.TypeCNAME {
			if f := st.positive(cn, name, auth); f != nil {
				return unproven(f, m.Rcode, append(chain, signed(cn)...), nil)
			}
			chain = append(chain, signed(cn)...)
			name = dnsname.Canonical(cn.rrs[0].(*dns.CNAME).Target)
			continue
		}
		return st.negative(m, name, qtype, chain, auth)
	}
}

// verdictOf turns a failure into a verdict.
func verdictOf(f *failure) Verdict {
	return Verdict{Security: f.sec, EDE: f.ede()}
}

// unproven turns a failure met on the records answer and authority into
// a verdict: an Insecure one keeps the records, with the RRSIGs they came
// with, for the resolver to give a DO client (RFC 4035 §3.2.1 asks for
// the signatures whether or not they could be proven); others keep
// nothing.
func unproven(f *failure, rcode int, answer, authority []dns.RR) Verdict {
	vd := verdictOf(f)
	if f.sec == Insecure {
		vd.Rcode, vd.Answer, vd.Authority = rcode, answer, authority
	}
	return vd
}

// positive proves the RRset rs, owned by name: it finds the secure zone
// of its signer through the chain of trust and verifies a signature; a
// signature from a wildcard (fewer labels than the owner) needs a proof
// that name itself does not exist.
func (st *state) positive(rs *rrset, name string, auth []*rrset) *failure {
	signer := rs.signer()
	if signer != "" && !dnsname.IsSubdomain(rs.name, signer) {
		return bogus(dns.ExtendedErrorCodeDNSBogus, "%s is signed by %s, which is not above it", rs.name, signer)
	}
	zone, keys, f := st.zoneOf(holder(rs.name, rs.rtype), signer)
	switch {
	case f != nil:
		return f
	case signer == "":
		return bogus(dns.ExtendedErrorCodeRRSIGsMissing, "%s %s has no RRSIG in secure zone %s", rs.name, dns.TypeToString[rs.rtype], zone)
	case zone != signer:
		return bogus(dns.ExtendedErrorCodeDNSBogus, "%s is signed by %s, but its zone is %s", rs.name, signer, zone)
	}
	sig, f := st.verify(rs, zone, keys, st.now)
	// Concatenated, not formatted: every validated answer records this
	// step.
	t := dns.TypeToString[rs.rtype]
	st.step(zone, keyName(sig, keys), "RRSIG over the "+t+" RRset of "+rs.name, "the "+t+" records of "+rs.name+" are authentic", f)
	if f != nil {
		return f
	}
	owner := dnsname.Labels(rs.name)
	if strings.HasPrefix(rs.name, "*.") {
		owner--
	}
	if int(sig.Labels) >= owner {
		return nil
	}
	p, f := st.denial(zone, keys, auth)
	if f == nil {
		f = st.proveWildcard(p, name, sig.Labels)
	}
	st.step(zone, denialName(p), "wildcard expansion for "+name, name+" does not exist, so the wildcard applies", f)
	return f
}

// holder returns the name whose zone holds the records of type t at
// name: the parent's for DS, which lives on the parent side of a zone cut
// (RFC 4035 §5.2), so a DS question at a trust anchor's apex is outside
// the anchor (Unbound's val_ds_afterprime); name itself otherwise.
func holder(name string, t uint16) string {
	if t == dns.TypeDS && name != "." {
		return dnsname.Parent(name)
	}
	return name
}

// dnameAbove returns a DNAME RRset owned by an ancestor of name.
func dnameAbove(ans []*rrset, name string) *rrset {
	for _, s := range ofType(ans, dns.TypeDNAME) {
		if dnsname.IsSubdomain(name, s.name) && s.name != name {
			return s
		}
	}
	return nil
}

// dname proves the DNAME RRset dn and returns the name it rewrites name
// to (RFC 6672 §2.2); the synthesised CNAME is made here, not taken from
// the reply, since it is not signed.
func (st *state) dname(dn *rrset, name string) (string, *failure) {
	if f := st.positive(dn, dn.name, nil); f != nil {
		return "", f
	}
	target := dnsname.Canonical(dn.rrs[0].(*dns.DNAME).Target)
	prefix := strings.TrimSuffix(name, dn.name)
	out := dnsname.Canonical(prefix + target)
	if target == "." {
		out = dnsname.Canonical(prefix)
	}
	if _, ok := dns.IsDomainName(out); !ok || len(out) > 255 {
		return "", bogus(dns.ExtendedErrorCodeDNSBogus, "DNAME %s makes %s too long", dn.name, name)
	}
	return out, nil
}

// negative proves an NXDOMAIN or NODATA reply for name: its SOA's signer
// is the zone; the SOA, NSEC and NSEC3 RRsets verify; they prove the
// denial. An unsigned reply is Insecure only when the chain of trust
// shows the name's zone unsigned.
func (st *state) negative(m *dns.Msg, name string, qtype uint16, chain []dns.RR, auth []*rrset) Verdict {
	var soa *rrset
	if s := ofType(auth, dns.TypeSOA); len(s) == 1 {
		soa = s[0]
	}
	signer := ""
	if soa != nil {
		signer = soa.signer()
		if !dnsname.IsSubdomain(name, soa.name) || signer != "" && signer != soa.name {
			return verdictOf(bogus(dns.ExtendedErrorCodeDNSBogus, "the SOA of the denial, %s, is not the zone of %s", soa.name, name))
		}
	}
	zone, keys, f := st.zoneOf(holder(name, qtype), signer)
	switch {
	case f != nil:
		return unproven(f, m.Rcode, chain, signed(denialSets(auth)...))
	case soa == nil || signer == "":
		return verdictOf(bogus(dns.ExtendedErrorCodeRRSIGsMissing, "unsigned negative answer for %s from secure zone %s", name, zone))
	case zone != signer:
		return verdictOf(bogus(dns.ExtendedErrorCodeDNSBogus, "denial signed by %s, but the zone of %s is %s", signer, name, zone))
	}
	p, f := st.denial(zone, keys, auth)
	if f != nil {
		st.step(zone, "-", "denial records for "+name, "the denial is authentic", f)
		return unproven(f, m.Rcode, chain, signed(denialSets(auth)...))
	}
	rcode := m.Rcode
	switch m.Rcode {
	case dns.RcodeNameError:
		rcode, f = st.proveNameError(p, name, qtype)
	case dns.RcodeSuccess:
		var res noDataResult
		res, f = st.proveNoData(p, name, qtype)
		if f == nil && res == optOutSpan {
			f = insecure(0, "%s lies in an NSEC3 opt-out span of %s", name, zone)
		}
	default:
		f = bogus(dns.ExtendedErrorCodeDNSBogus, "rcode %s cannot be validated", dns.RcodeToString[m.Rcode])
	}
	what := fmt.Sprintf("%s has no %s records", name, dns.TypeToString[qtype])
	if rcode == dns.RcodeNameError {
		what = name + " does not exist"
	}
	st.step(zone, denialName(p), "denial records for "+name, what, f)
	if f != nil {
		return unproven(f, rcode, chain, signed(denialSets(auth)...))
	}
	return Verdict{Security: Secure, Rcode: rcode, Answer: chain, Authority: signed(denialSets(auth)...)}
}

// anyAnswer proves every RRset of an ANY answer owned by name; all must
// be Secure for the answer to be.
func (st *state) anyAnswer(ans []*rrset, name string, auth []*rrset, chain []dns.RR) Verdict {
	var out []dns.RR
	for _, rs := range ans {
		if rs.name != name {
			continue
		}
		if f := st.positive(rs, name, auth); f != nil {
			return verdictOf(f)
		}
		out = append(out, signed(rs)...)
	}
	if len(out) == 0 {
		return verdictOf(bogus(dns.ExtendedErrorCodeDNSBogus, "ANY answer without records of %s", name))
	}
	return Verdict{Security: Secure, Rcode: dns.RcodeSuccess, Answer: append(chain, out...)}
}
