package dnssec

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// rrsetSigs returns the RRset of type t at name in z, its RRSIGs and the
// apex DNSKEYs.
func rrsetSigs(z *zone.Zone, name string, t uint16) ([]dns.RR, []*dns.RRSIG, []*dns.DNSKEY) {
	n := z.Node(name)
	var sigs []*dns.RRSIG
	for _, s := range n.Sigs[t] {
		sigs = append(sigs, s.(*dns.RRSIG))
	}
	var keys []*dns.DNSKEY
	for _, k := range z.Apex().RRsets[dns.TypeDNSKEY] {
		keys = append(keys, k.(*dns.DNSKEY))
	}
	return n.RRsets[t], sigs, keys
}

// TestVerifyRRset checks the reasons VerifyRRset gives and its work
// limits (KeyTrap).
func TestVerifyRRset(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	signed := signTest(t, z, testKeys(t, z.Origin, dns.ED25519, false), nil)
	rrset, sigs, keys := rrsetSigs(signed, "www.example.test.", dns.TypeA)
	if err := VerifyRRset(rrset, sigs, keys, testNow); err != nil {
		t.Fatalf("VerifyRRset: %v", err)
	}
	bad := *sigs[0]
	raw, _ := base64.StdEncoding.DecodeString(bad.Signature)
	raw[0] ^= 1
	bad.Signature = base64.StdEncoding.EncodeToString(raw)
	changed := dns.Copy(rrset[0]).(*dns.A)
	changed.A = changed.A.To16()
	changed.A[15]++
	otherKey := testKeys(t, z.Origin, dns.ECDSAP256SHA256, true)[0].DNSKEY
	for _, c := range []struct {
		name  string
		rrset []dns.RR
		sigs  []*dns.RRSIG
		keys  []*dns.DNSKEY
		at    time.Time
		want  error
	}{
		{"no signature", rrset, nil, keys, testNow, ErrNoSignature},
		{"no key", rrset, sigs, []*dns.DNSKEY{otherKey}, testNow, ErrNoKey},
		{"expired", rrset, sigs, keys, testNow.Add(20 * 24 * time.Hour), ErrExpired},
		{"not yet valid", rrset, sigs, keys, testNow.Add(-2 * time.Hour), ErrNotYetValid},
		{"bad signature", rrset, []*dns.RRSIG{&bad}, keys, testNow, ErrBadSignature},
		{"changed data", []dns.RR{changed}, sigs, keys, testNow, ErrBadSignature},
		{"other type", signed.Apex().RRsets[dns.TypeSOA], sigs, keys, testNow, ErrSignatureMismatch},
		{"too many signatures", rrset, repeat(&bad, MaxVerifyPerRRset+1), keys, testNow, ErrTooMuchWork},
	} {
		err := VerifyRRset(c.rrset, c.sigs, c.keys, c.at)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
	// A good signature after the budget of bad ones is not reached.
	many := append(repeat(&bad, MaxVerifyPerRRset), sigs...)
	if err := VerifyRRset(rrset, many, keys, testNow); !errors.Is(err, ErrTooMuchWork) {
		t.Errorf("%d bad signatures then a good one: error %v, want ErrTooMuchWork", MaxVerifyPerRRset, err)
	}
	// Colliding keys: only MaxKeysPerTag of them are tried.
	colliding := make([]*dns.DNSKEY, 0, MaxKeysPerTag+1)
	for range MaxKeysPerTag {
		colliding = append(colliding, keyWithTag(t, keys[1], sigs[0].KeyTag))
	}
	if err := VerifyRRset(rrset, sigs, append(colliding, keys...), testNow); !errors.Is(err, ErrBadSignature) {
		t.Errorf("real key after %d colliding ones: error %v, want ErrBadSignature", MaxKeysPerTag, err)
	}
}

func repeat(sig *dns.RRSIG, n int) []*dns.RRSIG {
	out := make([]*dns.RRSIG, n)
	for i := range out {
		out[i] = sig
	}
	return out
}

// keyWithTag returns a DNSKEY like k with another public key whose key
// tag is tag.
func keyWithTag(t *testing.T, k *dns.DNSKEY, tag uint16) *dns.DNSKEY {
	t.Helper()
	for i := range 1 << 20 {
		c := dns.Copy(k).(*dns.DNSKEY)
		raw := make([]byte, ed25519.PublicKeySize)
		raw[0], raw[1], raw[2] = byte(i), byte(i>>8), byte(i>>16)
		c.PublicKey = base64.StdEncoding.EncodeToString(raw)
		if c.KeyTag() == tag && c.PublicKey != k.PublicKey {
			return c
		}
	}
	t.Fatal("no colliding key found")
	return nil
}

// TestSignedDataWildcard checks the signed data rebuilt for an answer
// expanded from a wildcard (RFC 4035 §5.3.2), which the Ed448 path uses.
func TestSignedDataWildcard(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	keys := testKeys(t, z.Origin, dns.ED25519, false)
	signed := signTest(t, z, keys, nil)
	rrset, sigs, dnskeys := rrsetSigs(signed, "*.wild.example.test.", dns.TypeTXT)
	expanded := dns.Copy(rrset[0])
	expanded.Header().Name = "a.b.wild.example.test."
	expandedSig := *sigs[0] // in an answer the RRSIG has the query name too
	expandedSig.Hdr.Name = expanded.Header().Name
	if err := VerifyRRset([]dns.RR{expanded}, []*dns.RRSIG{&expandedSig}, dnskeys, testNow); err != nil {
		t.Fatalf("expanded wildcard answer: %v", err)
	}
	for _, set := range [][]dns.RR{rrset, {expanded}} {
		msg, err := signedData(sigs[0], set)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(sigs[0].Signature)
		if !ed25519.Verify(keys[1].Signer.Public().(ed25519.PublicKey), msg, raw) {
			t.Errorf("signedData of %s does not match the signature", set[0].Header().Name)
		}
	}
}

// TestVerifyProblems breaks a signed zone in ways signatures alone do not
// show and checks the problem Verify reports.
func TestVerifyProblems(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	keys := testKeys(t, z.Origin, dns.ED25519, false)
	zsk := keys[1]
	nsecZone := signTest(t, z, keys, nil)
	nsec3Zone := signTest(t, z, keys, &NSEC3Params{})
	sign := func(rr dns.RR, k *Key) dns.RR {
		sig, err := signRRset([]dns.RR{rr}, k, "example.test.", testNow.Add(-time.Hour), testNow.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	for _, c := range []struct {
		name string
		z    *zone.Zone
		add  []dns.RR
		drop func(dns.RR) bool
		want string
	}{
		{"signed delegation NS", nsecZone, []dns.RR{sign(mustRR(t, "sub.example.test. 3600 IN NS ns.sub.example.test."), zsk)}, nil,
			"sub.example.test. NS: signature on a delegation's NS RRset"},
		{"signed glue", nsecZone, []dns.RR{sign(mustRR(t, "ns.sub.example.test. 3600 IN A 192.0.2.53"), zsk)}, nil,
			"ns.sub.example.test. A: signature on glue or occluded data"},
		{"NSEC at glue", nsecZone, []dns.RR{mustRR(t, "ns.sub.example.test. 300 IN NSEC www.example.test. A RRSIG NSEC")}, nil,
			"ns.sub.example.test. NSEC: NSEC record at a glue or occluded name"},
		{"unsigned RRset", nsecZone, nil, coveredAt("mail.example.test.", dns.TypeA),
			"mail.example.test. A: not signed: no RRSIG by a key of algorithm ED25519"},
		{"DNSKEY signed by the ZSK only", nsecZone, []dns.RR{signSet(t, nsecZone.Apex().RRsets[dns.TypeDNSKEY], zsk)}, coveredAt("example.test.", dns.TypeDNSKEY),
			"example.test. DNSKEY: no valid signature by a key with the SEP flag (KSK)"},
		{"wrong bitmap", nsecZone, []dns.RR{
			mustRR(t, "mail.example.test. 300 IN NSEC ns1.example.test. A MX RRSIG NSEC"),
			sign(mustRR(t, "mail.example.test. 300 IN NSEC ns1.example.test. A MX RRSIG NSEC"), zsk)},
			func(rr dns.RR) bool { return rr.Header().Name == "mail.example.test." && isNSECish(rr) },
			"mail.example.test. NSEC: type bitmap A MX RRSIG NSEC, want A RRSIG NSEC"},
		{"extra NSEC3", nsec3Zone, []dns.RR{
			mustRR(t, "00000000000000000000000000000000.example.test. 300 IN NSEC3 1 0 0 - 00000000000000000000000000000001 A"),
		}, nil, "NSEC3 record matches no name of the zone"},
		{"NSEC in an NSEC3 zone", nsec3Zone, []dns.RR{mustRR(t, "www.example.test. 300 IN NSEC example.test. A RRSIG NSEC")}, nil,
			"www.example.test. NSEC: NSEC record in an NSEC3 zone"},
		{"missing ENT NSEC3", nsec3Zone, nil, nsec3For(t, "c.ent.example.test."),
			"c.ent.example.test. NSEC3: no NSEC3 record for the name"},
		{"RRSIG TTL", nsecZone, []dns.RR{withTTL(nsecZone.Node("www.example.test.").Sigs[dns.TypeA][0], 60)}, coveredAt("www.example.test.", dns.TypeA),
			"www.example.test. A: RRSIG TTL 60 differs from the RRset's TTL 3600"},
		{"RRSIG for no RRset", nsecZone, []dns.RR{sign(mustRR(t, "www.example.test. 3600 IN MX 0 ."), zsk)}, nil,
			"www.example.test. MX: RRSIG covers MX, but the name has no MX records"},
		{"record outside the zone", nsecZone, []dns.RR{mustRR(t, "www.example.org. 3600 IN A 192.0.2.1")}, nil,
			"www.example.org. A: record outside the zone example.test."},
	} {
		var records []zone.Record
		for _, r := range c.z.Records {
			if c.drop == nil || !c.drop(r.RR) {
				records = append(records, r)
			}
		}
		for _, rr := range c.add {
			records = append(records, zone.Record{RR: rr})
		}
		ps := Verify(zone.New(c.z.Origin, records), testNow)
		if !strings.Contains(problemsText(ps), c.want) {
			t.Errorf("%s: problems%s\nwant one with %q", c.name, problemsText(ps), c.want)
		}
	}
}

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func signSet(t *testing.T, rrset []dns.RR, k *Key) dns.RR {
	t.Helper()
	sig, err := signRRset(rrset, k, "example.test.", testNow.Add(-time.Hour), testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// coveredAt matches the RRSIGs over type t at name.
func coveredAt(name string, t uint16) func(dns.RR) bool {
	return func(rr dns.RR) bool {
		sig, ok := rr.(*dns.RRSIG)
		return ok && sig.Hdr.Name == name && sig.TypeCovered == t
	}
}

func isNSECish(rr dns.RR) bool {
	if sig, ok := rr.(*dns.RRSIG); ok {
		return sig.TypeCovered == dns.TypeNSEC
	}
	return rr.Header().Rrtype == dns.TypeNSEC
}

// nsec3For matches the NSEC3 record of name and its RRSIG.
func nsec3For(t *testing.T, name string) func(dns.RR) bool {
	h, err := NSEC3Hash(name, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	return func(rr dns.RR) bool {
		return strings.HasPrefix(rr.Header().Name, h+".")
	}
}

func withTTL(rr dns.RR, ttl uint32) dns.RR {
	c := dns.Copy(rr)
	c.Header().Ttl = ttl
	return c
}
