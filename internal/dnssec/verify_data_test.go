package dnssec

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// signedDataCases are RRsets whose signed data appendSignedData builds:
// one record and several (unsorted, duplicated), owners and RDATA names
// in mixed case, wildcard expansions, TTLs below the original TTL, the
// types with names it lowers itself and types it leaves to miekg/dns.
var signedDataCases = []struct {
	name   string
	labels int // the RRSIG's labels field; -1: the owner's
	rrs    []string
}{
	{"one A", -1, []string{"n1.zbulk.example.test. 3600 IN A 198.51.100.7"}},
	{"mixed-case owner (0x20)", -1, []string{"N1.zBuLk.Example.TEST. 3600 IN A 198.51.100.7"}},
	{"TTL below the original", -1, []string{"www.example.test. 17 IN A 192.0.2.1"}},
	{"several, unsorted, a duplicate", -1, []string{
		"www.example.test. 3600 IN A 192.0.2.9", "www.example.test. 3600 IN A 192.0.2.1",
		"www.example.test. 3600 IN A 192.0.2.200", "www.example.test. 3600 IN A 192.0.2.1"}},
	{"AAAA", -1, []string{"www.example.test. 3600 IN AAAA 2001:db8::2", "www.example.test. 3600 IN AAAA 2001:db8::1"}},
	{"TXT prefix order", -1, []string{`t.example.test. 300 IN TXT "b"`, `t.example.test. 300 IN TXT "ab"`, `t.example.test. 300 IN TXT "a" "b"`}},
	{"wildcard expansion", 3, []string{"Host.Wild.example.test. 3600 IN A 192.0.2.99"}},
	{"wildcard two labels deep", 3, []string{"a.b.wild.example.test. 3600 IN TXT \"w\""}},
	{"escaped label", -1, []string{`a\.b.example.test. 3600 IN A 192.0.2.5`}},
	{"non-ASCII owner: only ASCII is lowered (found by FuzzSignedData)", -1, []string{"Δ.Example.test. 3600 IN A 192.0.2.6"}},
	{"CNAME", -1, []string{"alias.example.test. 3600 IN CNAME WWW.Example.TEST."}},
	{"NS", -1, []string{"sub.example.test. 3600 IN NS NS2.example.test.", "sub.example.test. 3600 IN NS ns1.EXAMPLE.test."}},
	{"SOA", -1, []string{"example.test. 3600 IN SOA NS1.example.test. HostMaster.example.test. 1 7200 900 1209600 300"}},
	{"MX", -1, []string{"example.test. 3600 IN MX 10 Mail.Example.test.", "example.test. 3600 IN MX 5 mail2.example.test."}},
	{"PTR", -1, []string{"7.2.0.192.in-addr.arpa. 3600 IN PTR Host.Example.test."}},
	{"SRV", -1, []string{"_sip._udp.example.test. 3600 IN SRV 10 5 5060 SIP.example.test."}},
	{"DNAME", -1, []string{"legacy.example.test. 3600 IN DNAME Child.Test."}},
	{"NSEC keeps its case", -1, []string{"a.example.test. 300 IN NSEC B.example.test. A RRSIG NSEC"}},
	{"NSEC3", -1, []string{"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.test. 300 IN NSEC3 1 1 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NS SOA RRSIG DNSKEY NSEC3PARAM"}},
	{"DS", -1, []string{"secure.example.test. 3600 IN DS 12345 13 2 5C8D2B5E1C3F0F0D5F8C7A8B9E0D1C2B3A4F5E6D7C8B9A0F1E2D3C4B5A69788F"}},
	{"DNSKEY", -1, []string{
		"example.test. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
		"example.test. 3600 IN DNSKEY 256 3 13 oJMRESz5E4gYzS/q6XDrvU1qMPYIjCWzJaOau8XNEZeqCYKD5ar0IRd8KqXXFJkqmVfRvMGPmM1x8fGAa2XhSA=="}},
	{"NAPTR (miekg/dns's form)", -1, []string{`example.test. 3600 IN NAPTR 100 10 "S" "SIP+D2U" "" _Sip._udp.example.test.`}},
	{"RP (miekg/dns's form)", -1, []string{"example.test. 3600 IN RP Admin.example.test. Info.example.test."}},
	{"unknown type (miekg/dns's form)", -1, []string{`example.test. 3600 IN TYPE65300 \# 3 abcdef`}},
	{"mixed known and unknown", -1, []string{`x.example.test. 3600 IN TYPE65300 \# 1 01`}},
}

// TestSignedDataMatchesMiekg holds appendSignedData to the signed data
// miekg/dns builds for RRSIG.Sign and RRSIG.Verify, for every case and
// with a key tag of 0, so that what verified before verifies now.
func TestSignedDataMatchesMiekg(t *testing.T) {
	t.Parallel()
	for _, c := range signedDataCases {
		rrs := make([]dns.RR, len(c.rrs))
		for i, text := range c.rrs {
			rr, err := dns.NewRR(text)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			rrs[i] = rr
		}
		labels := c.labels
		if labels < 0 {
			labels = dns.CountLabel(rrs[0].Header().Name)
		}
		for _, tag := range []uint16{4711, 0} {
			sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: rrs[0].Header().Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 3600},
				TypeCovered: rrs[0].Header().Rrtype, Algorithm: dns.ECDSAP256SHA256, Labels: uint8(labels), OrigTtl: 3600,
				Expiration: 1_800_000_000, Inception: 1_700_000_000, KeyTag: tag, SignerName: "Example.TEST.",
				Signature: "AAAA"}
			want, err := signedData(sig, rrs)
			if tag == 0 {
				want, err = miekgSignedData(sig, rrs)
			}
			if err != nil {
				t.Fatalf("%s: miekg/dns: %v", c.name, err)
			}
			s := getScratch()
			got, err := appendSignedData(nil, s, sig, rrs)
			s.put()
			if err != nil {
				t.Fatalf("%s: appendSignedData: %v", c.name, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s, key tag %d: signed data\n got %x\nwant %x", c.name, tag, got, want)
			}
		}
	}
}

// TestVerifySignatureMemory shows VerifySignature with a Memory: the
// first verification is computed and remembered, the same signature over
// the same data is then answered from memory, and whatever changes the
// signed data, the signature or the key gives another digest, computed
// afresh; the checks outside the cryptography (validity period) hold
// whatever the memory says.
func TestVerifySignatureMemory(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	keys := testKeys(t, z.Origin, dns.ECDSAP256SHA256, false)
	signed := signTest(t, z, keys, nil)
	rrset, sigs, dnskeys := rrsetSigs(signed, "www.example.test.", dns.TypeA)
	pub := PublicKeys(dnskeys)
	mem := &testMemory{seen: map[[sha256.Size]byte]bool{}}
	for range 3 {
		if err := VerifySignature(rrset, sigs[0], pub, testNow, mem); err != nil {
			t.Fatal(err)
		}
	}
	if mem.computed != 1 {
		t.Errorf("three verifications of one signature computed %d, want 1", mem.computed)
	}
	changed := dns.Copy(rrset[0]).(*dns.A)
	changed.A = changed.A.To16()
	changed.A[15]++
	otherKey, err := Generate(z.Origin, dns.ECDSAP256SHA256, FlagsZSK, 0, seeded(99))
	if err != nil {
		t.Fatal(err)
	}
	other := PublicKeys([]*dns.DNSKEY{otherKey.DNSKEY})
	other[0].Tag = sigs[0].KeyTag // a colliding key tag with other material
	for _, c := range []struct {
		name  string
		rrset []dns.RR
		keys  []*PublicKey
		at    time.Time
	}{
		{"changed RRset", []dns.RR{changed}, pub, testNow},
		{"other key, same tag", rrset, other, testNow},
		{"expired", rrset, pub, testNow.Add(20 * 24 * time.Hour)},
	} {
		if err := VerifySignature(c.rrset, sigs[0], c.keys, c.at, mem); err == nil {
			t.Errorf("%s: verified", c.name)
		}
	}
	if mem.computed != 3 {
		t.Errorf("computed %d verifications, want 3 (the expired one fails before the memory)", mem.computed)
	}
}

// testMemory is a Memory that counts the verifications it let through.
type testMemory struct {
	seen     map[[sha256.Size]byte]bool
	computed int
}

func (m *testMemory) Verified(d [sha256.Size]byte) bool {
	if !m.seen[d] {
		m.computed++
	}
	return m.seen[d]
}

func (m *testMemory) Remember(d [sha256.Size]byte) { m.seen[d] = true }

// FuzzSignedData holds appendSignedData to miekg/dns's signed data for
// any RRset a zone file line can hold.
func FuzzSignedData(f *testing.F) {
	for _, c := range signedDataCases {
		f.Add(strings.Join(c.rrs, "\n"), uint8(max(c.labels, 0)))
	}
	f.Fuzz(func(t *testing.T, text string, labels uint8) {
		if strings.Contains(text, "$") {
			return // $GENERATE ranges make slow inputs and nothing new
		}
		zp := dns.NewZoneParser(strings.NewReader(text), "example.test.", "")
		var rrs []dns.RR
		for rr, ok := zp.Next(); ok && len(rrs) < 20; rr, ok = zp.Next() {
			rrs = append(rrs, rr)
		}
		if len(rrs) == 0 || !dns.IsRRset(rrs) || rrs[0].Header().Rrtype == dns.TypeRRSIG {
			return
		}
		if n := dns.CountLabel(rrs[0].Header().Name); int(labels) > n {
			labels = uint8(n)
		}
		sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: rrs[0].Header().Name, Rrtype: dns.TypeRRSIG, Class: rrs[0].Header().Class},
			TypeCovered: rrs[0].Header().Rrtype, Algorithm: dns.ECDSAP256SHA256, Labels: labels, OrigTtl: 3600,
			KeyTag: 1, SignerName: "example.test."}
		want, werr := signedData(sig, rrs)
		s := getScratch()
		got, gerr := appendSignedData(nil, s, sig, rrs)
		s.put()
		switch {
		case werr != nil:
			return // signedData cannot rebuild every RRSIG (a literal "*" owner with the full label count, say)
		case gerr != nil:
			t.Fatalf("miekg/dns built the signed data of %q, appendSignedData failed: %v", text, gerr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("signed data of %q\n got %x\nwant %x", text, got, want)
		}
	})
}

// TestSignedOwner names the owner an RRset has in the signed data: its
// own, or the wildcard it was expanded from, down to the root's (an
// RRSIG with 0 labels, which once indexed past the owner's labels: found
// by the validator's FuzzValidateMutated).
func TestSignedOwner(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		owner  string
		labels uint8
		want   string
	}{
		{"a.b.example.", 2, "*.b.example."},
		{"A.b.Example.", 1, "*.example."},
		{"a.b.example.", 0, "*."},
		{"A.b.example.", 3, "a.b.example."},
		{"a.b.example.", 200, "a.b.example."},
		{".", 0, "."},
	} {
		if got := signedOwner(c.owner, c.labels); got != c.want {
			t.Errorf("signedOwner(%s, labels %d) = %q, want %q", c.owner, c.labels, got, c.want)
		}
	}
}

// TestSignedDataScratchReuse: a record whose field miekg/dns skips
// without writing (an A record holding an IPv6 address) gets the zeros
// of miekg/dns's fresh buffer, not the bytes an earlier verification left
// in the reused one.
func TestSignedDataScratchReuse(t *testing.T) {
	t.Parallel()
	good, err := dns.NewRR("a.example.test. 3600 IN A 192.0.2.99")
	if err != nil {
		t.Fatal(err)
	}
	odd := dns.Copy(good).(*dns.A)
	odd.A = net.ParseIP("2001:db8::1")
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: "a.example.test.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET},
		TypeCovered: dns.TypeA, Algorithm: dns.ECDSAP256SHA256, Labels: 3, OrigTtl: 3600, KeyTag: 1, SignerName: "example.test."}
	s := new(scratch)
	if _, err := appendSignedData(nil, s, sig, []dns.RR{good}); err != nil {
		t.Fatal(err)
	}
	got, err := appendSignedData(nil, s, sig, []dns.RR{odd})
	if err != nil {
		t.Fatal(err)
	}
	want, err := signedData(sig, []dns.RR{odd})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("signed data after a reuse\n got %x\nwant %x", got, want)
	}
}

// TestAppendDERSignature holds appendDERSignature to encoding/asn1's
// encoding of the same two integers: leading zeros, high bits, zero.
func TestAppendDERSignature(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	half := func(size int) []byte {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		switch r.IntN(5) {
		case 0:
			clear(b[:r.IntN(size+1)]) // leading zeros, or zero
		case 1:
			b[0] |= 0x80
		case 2:
			b[0] &= 0x7f
		}
		return b
	}
	for i := range 2000 {
		size := 32
		if i%2 == 1 {
			size = 48
		}
		rb, sb := half(size), half(size)
		want, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(rb), new(big.Int).SetBytes(sb)})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendDERSignature(nil, rb, sb); !bytes.Equal(got, want) {
			t.Fatalf("r %x s %x:\n got %x\nwant %x", rb, sb, got, want)
		}
		if len(want) > maxDERSignature {
			t.Fatalf("%d octets, more than maxDERSignature", len(want))
		}
	}
}

// TestVerifyECDSALengths: a P-256 signature of 64 octets goes to
// crypto/ecdsa in DER; one of another length is halved as miekg/dns
// does, so r and s padded with a zero octet each still verify (as they
// did through RRSIG.Verify), and a truncated one does not.
func TestVerifyECDSALengths(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	signed := signTest(t, z, testKeys(t, z.Origin, dns.ECDSAP256SHA256, false), nil)
	rrset, sigs, dnskeys := rrsetSigs(signed, "www.example.test.", dns.TypeA)
	raw, err := base64.StdEncoding.DecodeString(sigs[0].Signature)
	if err != nil || len(raw) != 64 {
		t.Fatalf("signature of %d octets, %v", len(raw), err)
	}
	with := func(b []byte) *dns.RRSIG {
		s := *sigs[0]
		s.Signature = base64.StdEncoding.EncodeToString(b)
		return &s
	}
	padded := append(append(append([]byte{0}, raw[:32]...), 0), raw[32:]...)
	for _, c := range []struct {
		name string
		sig  *dns.RRSIG
		ok   bool
	}{
		{"64 octets", sigs[0], true},
		{"r and s padded to 33 octets", with(padded), true},
		{"truncated", with(raw[:63]), false},
	} {
		for _, verify := range []func() error{
			func() error { return VerifySignature(rrset, c.sig, PublicKeys(dnskeys), testNow, nil) },
			func() error { return VerifyRRset(rrset, []*dns.RRSIG{c.sig}, dnskeys, testNow) },
		} {
			if err := verify(); (err == nil) != c.ok {
				t.Errorf("%s: %v, want verified %v", c.name, err, c.ok)
			}
		}
		var key *dns.DNSKEY
		for _, k := range dnskeys {
			if k.KeyTag() == c.sig.KeyTag {
				key = k
			}
		}
		if err := c.sig.Verify(key, rrset); (err == nil) != c.ok {
			t.Errorf("%s: miekg/dns says %v, want verified %v", c.name, err, c.ok)
		}
	}
}

// BenchmarkVerifySignature is one ECDSAP256SHA256 verification of an A
// RRset through VerifySignature (no memory), beside the floor: the
// crypto/ecdsa verification of the same digest and signature alone.
// What lies between is the cost of the checks and of the signed data.
//
//	go test -run XX -bench VerifySignature ./internal/dnssec
func BenchmarkVerifySignature(b *testing.B) {
	z := parseZone(b, "example.test.", exampleZone)
	signed := signTest(b, z, testKeys(b, z.Origin, dns.ECDSAP256SHA256, false), nil)
	rrset, sigs, dnskeys := rrsetSigs(signed, "www.example.test.", dns.TypeA)
	keys := PublicKeys(dnskeys)
	b.Run("VerifySignature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := VerifySignature(rrset, sigs[0], keys, testNow, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("crypto-ecdsa-only", func(b *testing.B) {
		s := getScratch()
		data, err := appendSignedData(nil, s, sigs[0], rrset)
		if err != nil {
			b.Fatal(err)
		}
		raw, err := s.signature(sigs[0])
		if err != nil {
			b.Fatal(err)
		}
		var key *PublicKey
		for _, k := range keys {
			if k.Tag == sigs[0].KeyTag {
				key = k
			}
		}
		h := sha256.Sum256(data)
		der := appendDERSignature(nil, raw[:32], raw[32:])
		b.ReportAllocs()
		for b.Loop() {
			if !ecdsa.VerifyASN1(key.ecdsa, h[:], der) {
				b.Fatal("does not verify")
			}
		}
	})
}
