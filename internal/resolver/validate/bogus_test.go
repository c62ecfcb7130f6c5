package validate

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
)

// TestBogus breaks a signed world in each way a validator must catch and
// checks the verdict and the Extended DNS Error that names the fault.
func TestBogus(t *testing.T) {
	day := signTime.Add(24 * time.Hour)
	wrongDS := "child IN DS 4711 13 2 " + strings.Repeat("ab", 32) + "\n"
	cases := []struct {
		name   string
		zone   string // extra test. zone text
		p      *dnssec.NSEC3Params
		now    time.Time
		qname  string
		qtype  uint16
		mutate func(w *world, name string, qtype uint16, m *dns.Msg)
		want   Security
		ede    uint16
	}{
		{name: "expired", now: signTime.Add(20 * 24 * time.Hour), qname: "www.test.", qtype: dns.TypeA,
			want: Bogus, ede: dns.ExtendedErrorCodeSignatureExpired},
		{name: "not yet valid", now: signTime.Add(-2 * time.Hour), qname: "www.test.", qtype: dns.TypeA,
			want: Bogus, ede: dns.ExtendedErrorCodeSignatureNotYetValid},
		{name: "tampered data", qname: "www.test.", qtype: dns.TypeA, want: Bogus, ede: dns.ExtendedErrorCodeDNSBogus,
			mutate: func(_ *world, name string, _ uint16, m *dns.Msg) {
				if name == "www.test." {
					for _, rr := range m.Answer {
						if a, ok := rr.(*dns.A); ok {
							a.A = net.IPv4(203, 0, 113, 66)
						}
					}
				}
			}},
		{name: "RRSIG stripped", qname: "www.test.", qtype: dns.TypeA, want: Bogus, ede: dns.ExtendedErrorCodeRRSIGsMissing,
			mutate: func(_ *world, name string, _ uint16, m *dns.Msg) {
				if name == "www.test." {
					m.Answer = withoutType(m.Answer, dns.TypeRRSIG)
				}
			}},
		{name: "NSEC stripped", qname: "nope.test.", qtype: dns.TypeA, want: Bogus, ede: dns.ExtendedErrorCodeNSECMissing,
			mutate: func(_ *world, name string, _ uint16, m *dns.Msg) {
				if name == "nope.test." {
					m.Ns = withoutType(withoutType(m.Ns, dns.TypeNSEC), dns.TypeNSEC3)
				}
			}},
		{name: "NSEC3 stripped", p: &dnssec.NSEC3Params{}, qname: "nope.test.", qtype: dns.TypeA, want: Bogus, ede: dns.ExtendedErrorCodeNSECMissing,
			mutate: func(_ *world, name string, _ uint16, m *dns.Msg) {
				if name == "nope.test." {
					m.Ns = withoutType(m.Ns, dns.TypeNSEC3)
				}
			}},
		{name: "DS matches no key", zone: wrongDS, qname: "www.child.test.", qtype: dns.TypeA,
			want: Bogus, ede: dns.ExtendedErrorCodeDNSKEYMissing},
		{name: "DNSKEY missing", qname: "www.child.test.", qtype: dns.TypeA, want: Bogus, ede: dns.ExtendedErrorCodeDNSKEYMissing,
			mutate: func(_ *world, name string, qtype uint16, m *dns.Msg) {
				if name == "child.test." && qtype == dns.TypeDNSKEY {
					m.Answer = nil
				}
			}},
		{name: "unsupported algorithm", zone: "child IN DS 4711 200 2 " + strings.Repeat("ab", 32) + "\n",
			qname: "www.child.test.", qtype: dns.TypeA, want: Insecure, ede: dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm},
		{name: "unsupported digest", zone: "child IN DS 4711 13 3 " + strings.Repeat("ab", 32) + "\n",
			qname: "www.child.test.", qtype: dns.TypeA, want: Insecure, ede: dns.ExtendedErrorCodeUnsupportedDSDigestType},
		{name: "NSEC3 iterations", p: &dnssec.NSEC3Params{}, qname: "nope.test.", qtype: dns.TypeA,
			want: Insecure, ede: dns.ExtendedErrorCodeUnsupportedNSEC3IterValue,
			mutate: func(w *world, name string, _ uint16, m *dns.Msg) {
				if name != "nope.test." {
					return
				}
				for _, rr := range m.Ns {
					if n, ok := rr.(*dns.NSEC3); ok {
						n.Iterations = 2500
					}
				}
				for _, s := range groupRRsets(m.Ns) {
					if s.rtype == dns.TypeNSEC3 {
						m.Ns = w.resign(m.Ns, s.name, dns.TypeNSEC3, "test.")
					}
				}
			}},
		{name: "wildcard replayed", qname: "exists.wild.test.", qtype: dns.TypeA, want: Bogus, ede: dns.ExtendedErrorCodeNSECMissing,
			mutate: func(w *world, name string, qtype uint16, m *dns.Msg) {
				if name == "exists.wild.test." && qtype == dns.TypeA {
					r, _ := w.fetchOnly("x.wild.test.", dns.TypeA)
					rename(r, "x.wild.test.", "exists.wild.test.")
					*m = *r
				}
			}},
		{name: "NXDOMAIN for a name that exists", qname: "www.test.", qtype: dns.TypeA, want: Bogus, ede: dns.ExtendedErrorCodeNSECMissing,
			mutate: func(w *world, name string, qtype uint16, m *dns.Msg) {
				if name == "www.test." {
					r, _ := w.fetchOnly("nope.test.", dns.TypeA)
					rename(r, "nope.test.", "www.test.")
					*m = *r
				}
			}},
		{name: "NODATA for a type that exists", p: &dnssec.NSEC3Params{}, qname: "www.test.", qtype: dns.TypeA, want: Bogus, ede: dns.ExtendedErrorCodeDNSBogus,
			mutate: func(w *world, name string, qtype uint16, m *dns.Msg) {
				if name == "www.test." && qtype == dns.TypeA {
					r, _ := w.fetchOnly("www.test.", dns.TypeMX)
					r.Question[0].Qtype = dns.TypeA
					*m = *r
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t,
				zspec{origin: ".", text: rootZone},
				zspec{origin: "test.", text: testZone + c.zone, nsec3: c.p},
				zspec{origin: "child.test.", text: childZone},
				zspec{origin: "unsigned.test.", text: unsignedZone, unsigned: true})
			if c.mutate != nil {
				w.mutate = func(name string, qtype uint16, m *dns.Msg) { c.mutate(w, name, qtype, m) }
			}
			now := c.now
			if now.IsZero() {
				now = day
			}
			vd := w.validator(now).Validate(context.Background(), dns.Question{Name: c.qname, Qtype: c.qtype, Qclass: dns.ClassINET}, w.fetch)
			if vd.Security != c.want || vd.EDE == nil || vd.EDE.InfoCode != c.ede {
				t.Errorf("%v EDE %v, want %v EDE %d", vd.Security, vd.EDE, c.want, c.ede)
			}
			if vd.Security == Bogus && (len(vd.Answer) > 0 || vd.Rcode != 0) {
				t.Errorf("bogus verdict carries data: %v", vd.Answer)
			}
		})
	}
}

// fetchOnly fetches without the world's mutation.
func (w *world) fetchOnly(name string, qtype uint16) (*dns.Msg, error) {
	saved := w.mutate
	w.mutate = nil
	defer func() { w.mutate = saved }()
	return w.fetch(context.Background(), name, qtype)
}

// rename gives the question and every record owned by from the name to.
func rename(m *dns.Msg, from, to string) {
	m.Question[0].Name = to
	for _, rr := range append(m.Answer, m.Ns...) {
		if strings.EqualFold(rr.Header().Name, from) {
			rr.Header().Name = to
		}
	}
}

// withoutType returns section without records of type t.
func withoutType(section []dns.RR, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range section {
		if rr.Header().Rrtype != t {
			out = append(out, rr)
		}
	}
	return out
}

// TestBogusCached: a Bogus verdict is remembered for bogusTTL (no fetch,
// no crypto on a repeat) and then validated afresh; a Secure one for the
// TTL of its records.
func TestBogusCached(t *testing.T) {
	w := standardWorld(t, nil)
	broken := true
	w.mutate = func(name string, _ uint16, m *dns.Msg) {
		if broken && name == "www.test." {
			m.Answer = withoutType(m.Answer, dns.TypeRRSIG)
		}
	}
	now := signTime.Add(24 * time.Hour)
	v, err := New(Config{Anchors: w.anchors, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	q := dns.Question{Name: "www.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	if vd := v.Validate(context.Background(), q, w.fetch); vd.Security != Bogus {
		t.Fatalf("first: %v", vd.Security)
	}
	broken = false
	before := w.fetches
	now = now.Add(bogusTTL - time.Second)
	if vd := v.Validate(context.Background(), q, w.fetch); vd.Security != Bogus || w.fetches != before {
		t.Errorf("within %v: %v after %d fetches, want the cached bogus verdict", bogusTTL, vd.Security, w.fetches-before)
	}
	now = now.Add(2 * time.Second)
	if vd := v.Validate(context.Background(), q, w.fetch); vd.Security != Secure {
		t.Errorf("after %v: %v, want secure (the zone was fixed)", bogusTTL, vd.Security)
	}
	before = w.fetches
	now = now.Add(time.Minute)
	vd := v.Validate(context.Background(), q, w.fetch)
	if vd.Security != Secure || w.fetches != before || vd.Answer[0].Header().Ttl != 3600-60 {
		t.Errorf("cached secure: %v, %d fetches, TTL %d", vd.Security, w.fetches-before, vd.Answer[0].Header().Ttl)
	}
}

// TestBogusNamesTriedSignature: when the DNSKEY RRset of a zone carries
// its ZSK's signature first (no DS vouches for the ZSK, so it is not
// tried) and then its KSK's, expired, the EDE is the KSK signature's
// fault, 7 Signature Expired, not 9 DNSKEY Missing: what dnssec-signzone
// makes by default (both keys sign the DNSKEY RRset), signed with an end
// date in the past (the interop bogus matrix found this).
func TestBogusNamesTriedSignature(t *testing.T) {
	w := standardWorld(t, nil)
	now := signTime.Add(24 * time.Hour)
	w.mutate = func(name string, qtype uint16, m *dns.Msg) {
		if name != "child.test." || qtype != dns.TypeDNSKEY {
			return
		}
		var set []dns.RR
		for _, rr := range m.Answer {
			if rr.Header().Rrtype == dns.TypeDNSKEY {
				set = append(set, rr)
			}
		}
		var sigs []dns.RR
		for _, k := range []*dnssec.Key{w.keys["child.test."][1], w.keys["child.test."][0]} { // ZSK first
			sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 3600},
				OrigTtl: set[0].Header().Ttl, Algorithm: k.Algorithm(), KeyTag: k.Tag(), SignerName: name, Labels: 2,
				Inception: uint32(now.Add(-20 * 24 * time.Hour).Unix()), Expiration: uint32(now.Add(-2 * 24 * time.Hour).Unix())}
			if err := sig.Sign(k.Signer, set); err != nil {
				t.Fatal(err)
			}
			sigs = append(sigs, sig)
		}
		m.Answer = append(set, sigs...)
	}
	vd := w.validate("www.child.test.", dns.TypeA)
	if vd.Security != Bogus || vd.EDE == nil || vd.EDE.InfoCode != dns.ExtendedErrorCodeSignatureExpired {
		t.Errorf("%v EDE %v, want bogus EDE 7", vd.Security, vd.EDE)
	}
}
