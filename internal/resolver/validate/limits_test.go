package validate

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
)

// collidingKey returns a DNSKEY of algorithm alg owned by zone with key
// tag tag and junk key material (seeded by i): the KeyTrap ingredient.
func collidingKey(zone string, alg uint8, tag uint16, i int) *dns.DNSKEY {
	pub := make([]byte, 64)
	for j := range pub {
		pub[j] = byte(i*31 + j*7)
	}
	k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: dns.ZONE, Protocol: 3, Algorithm: alg}
	// The key tag is a folded 16-bit sum over the RDATA (RFC 4034
	// Appendix B): flags, protocol, algorithm, then the key, whose last
	// two octets sit at an even offset. Solve for them.
	wire := append([]byte{byte(k.Flags >> 8), byte(k.Flags), k.Protocol, k.Algorithm}, pub[:62]...)
	sum := 0
	for i, b := range wire {
		if i&1 == 0 {
			sum += int(b) << 8
		} else {
			sum += int(b)
		}
	}
	for x := range 1 << 16 {
		v := sum + x
		if uint16(v+(v>>16&0xffff)) != tag {
			continue
		}
		pub[62], pub[63] = byte(x>>8), byte(x)
		k.PublicKey = base64.StdEncoding.EncodeToString(pub)
		if k.KeyTag() == tag {
			return k
		}
	}
	panic("no colliding key")
}

// TestKeyTrap serves a zone whose DNSKEY RRset holds hundreds of keys
// colliding with its ZSK's tag (signed by the real KSK, as an attacker
// owning the zone can), and an answer with hundreds of RRSIGs naming that
// tag. The validation ends Bogus within the verification bounds, fast
// (KeyTrap, CVE-2023-50387).
func TestKeyTrap(t *testing.T) {
	w := standardWorld(t, nil)
	zsk := w.keys["test."][1]
	var keys []dns.RR
	for i := range 300 {
		keys = append(keys, collidingKey("test.", zsk.Algorithm(), zsk.Tag(), i))
	}
	w.mutate = func(name string, qtype uint16, m *dns.Msg) {
		switch {
		case name == "test." && qtype == dns.TypeDNSKEY:
			// The colliding keys first, so a validator that tries keys
			// in order meets them all before the real one.
			m.Answer = append(append([]dns.RR(nil), keys...), m.Answer...)
			m.Answer = w.resignWith(m.Answer, "test.", dns.TypeDNSKEY, "test.", 0)
		case name == "www.test." && qtype == dns.TypeA:
			var sig *dns.RRSIG
			for _, rr := range m.Answer {
				if s, ok := rr.(*dns.RRSIG); ok {
					sig = s
				}
			}
			var junk []dns.RR
			for i := range 300 {
				s := *sig
				s.Signature = base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune('a'+i%26)), 64)))
				junk = append(junk, &s)
			}
			m.Answer = append(withoutType(m.Answer, dns.TypeRRSIG), junk...)
		}
	}
	start := time.Now()
	vd := w.validate("www.test.", dns.TypeA)
	if vd.Security != Bogus {
		t.Errorf("KeyTrap answer: %v, want bogus", vd.Security)
	}
	if vd.Work.Verifications > maxVerifyPerQuery {
		t.Errorf("%d verifications, more than %d", vd.Work.Verifications, maxVerifyPerQuery)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	t.Logf("work %+v, EDE %v", vd.Work, vd.EDE)
}

// TestNSEC3Work: thousands of NSEC3 iterations cost no hashes (Insecure,
// EDE 27), and a long name in an NSEC3 zone stays within the hash bound
// (CVE-2023-50868).
func TestNSEC3Work(t *testing.T) {
	w := standardWorld(t, &dnssec.NSEC3Params{Iterations: 50, Salt: "ab"})
	long := strings.Repeat("a.", 120) + "nope.test."
	vd := w.validate(long, dns.TypeA)
	if vd.Security != Secure || vd.Work.Hashes > maxHashesPerQuery {
		t.Errorf("long name: %v, work %+v", vd.Security, vd.Work)
	}
	w.mutate = func(name string, _ uint16, m *dns.Msg) {
		if name != "nope.test." {
			return
		}
		var extra []dns.RR
		for _, rr := range m.Ns {
			if n, ok := rr.(*dns.NSEC3); ok {
				n.Iterations = 5000
			}
		}
		m.Ns = append(m.Ns, extra...)
		for _, s := range groupRRsets(m.Ns) {
			if s.rtype == dns.TypeNSEC3 {
				m.Ns = w.resign(m.Ns, s.name, dns.TypeNSEC3, "test.")
			}
		}
	}
	vd = w.validate("nope.test.", dns.TypeA)
	if vd.Security != Insecure || vd.EDE == nil || vd.EDE.InfoCode != dns.ExtendedErrorCodeUnsupportedNSEC3IterValue || vd.Work.Hashes != 0 {
		t.Errorf("5000 iterations: %v EDE %v work %+v, want insecure, EDE 27, no hashes", vd.Security, vd.EDE, vd.Work)
	}
}

// TestVerifyPerQueryBound: once a client query has spent
// maxVerifyPerQuery verifications, no RRset verifies any more, however
// good its signature (KeyTrap across many RRsets).
func TestVerifyPerQueryBound(t *testing.T) {
	w := standardWorld(t, nil)
	m, _ := w.fetch(t.Context(), "www.test.", dns.TypeA)
	set := pick(groupRRsets(m.Answer), "www.test.", dns.TypeA)
	keys := dnssec.PublicKeys([]*dns.DNSKEY{w.keys["test."][1].DNSKEY})
	now := signTime.Add(time.Hour)
	st := &state{work: Work{Verifications: maxVerifyPerQuery - 1}}
	if _, f := st.verify(set, "test.", keys, now); f != nil {
		t.Fatalf("one verification left: %v", f)
	}
	if _, f := st.verify(set, "test.", keys, now); f == nil || f.sec != Bogus {
		t.Fatalf("budget spent: %v, want bogus", f)
	}
	if st.work.Verifications != maxVerifyPerQuery {
		t.Errorf("%d verifications", st.work.Verifications)
	}
}
