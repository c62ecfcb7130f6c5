package validate

import (
	"crypto"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
)

// TestVerifiedSigsRemembers shows that a signature verified once is not
// verified again (the same NSEC comes with every name under a wildcard),
// while a changed RRset, another key or an expired signature is checked
// afresh and fails.
func TestVerifiedSigsRemembers(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	nsec, err := dns.NewRR("exists.wild.example.test. 300 IN NSEC mail.example.test. TXT RRSIG NSEC")
	if err != nil {
		t.Fatal(err)
	}
	key, sig := signedByTestKey(t, nsec, now)
	other := dns.Copy(key).(*dns.DNSKEY)
	if _, err := other.Generate(256); err != nil {
		t.Fatal(err)
	}
	var c verifiedSigs
	keys := dnssec.PublicKeys([]*dns.DNSKEY{key})
	for range 3 {
		if err := c.verify([]dns.RR{nsec}, sig, keys, now); err != nil {
			t.Fatal(err)
		}
	}
	if c.computed != 1 {
		t.Errorf("3 verifications of the same signature computed %d, want 1", c.computed)
	}
	changed := dns.Copy(nsec).(*dns.NSEC)
	changed.NextDomain = "zzz.example.test."
	for _, bad := range []struct {
		name string
		rrs  []dns.RR
		keys []*dnssec.PublicKey
		now  time.Time
	}{
		{"changed RRset", []dns.RR{changed}, keys, now},
		{"other key", []dns.RR{nsec}, dnssec.PublicKeys([]*dns.DNSKEY{other}), now},
		{"expired", []dns.RR{nsec}, keys, now.Add(2 * time.Hour)},
	} {
		if err := c.verify(bad.rrs, sig, bad.keys, bad.now); err == nil {
			t.Errorf("%s: verified from memory", bad.name)
		}
	}
}

// TestVerifiedSigsWildcard: the answers a wildcard gives different names
// carry the same signature over the same signed data, so one
// verification serves them all; a record owned by another name than its
// RRSIG is not taken for an expansion.
func TestVerifiedSigsWildcard(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	wild, err := dns.NewRR("*.wild.example.test. 3600 IN A 192.0.2.99")
	if err != nil {
		t.Fatal(err)
	}
	key, sig := signedByTestKey(t, wild, now)
	expand := func(name string) ([]dns.RR, *dns.RRSIG) {
		rr := dns.Copy(wild)
		rr.Header().Name = name
		s := dns.Copy(sig).(*dns.RRSIG)
		s.Hdr.Name = name
		return []dns.RR{rr}, s
	}
	var c verifiedSigs
	keys := dnssec.PublicKeys([]*dns.DNSKEY{key})
	for _, name := range []string{"a.wild.example.test.", "B.wild.example.test.", "c.d.wild.example.test."} {
		rrs, s := expand(name)
		if err := c.verify(rrs, s, keys, now); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if c.computed != 1 {
		t.Errorf("3 expansions of one wildcard computed %d verifications, want 1", c.computed)
	}
	rrs, s := expand("a.wild.example.test.")
	rrs[0].Header().Name = "e.wild.example.test."
	if err := c.verify(rrs, s, keys, now); err == nil {
		t.Error("a record owned by another name than its RRSIG verified")
	}
	rrs, s = expand("a.wild.example.test.")
	rrs[0].(*dns.A).A[3] = 100
	if err := c.verify(rrs, s, keys, now); err == nil {
		t.Error("an expansion with other data verified")
	}
}

// signedByTestKey signs rr with a fresh ECDSA P-256 zone key of
// example.test., valid for an hour either side of now, and returns the key
// and the RRSIG.
func signedByTestKey(t *testing.T, rr dns.RR, now time.Time) (*dns.DNSKEY, *dns.RRSIG) {
	t.Helper()
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.test.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 256, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	priv, err := key.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	h := rr.Header()
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: h.Ttl},
		KeyTag: key.KeyTag(), SignerName: "example.test.", Algorithm: dns.ECDSAP256SHA256,
		Inception: uint32(now.Add(-time.Hour).Unix()), Expiration: uint32(now.Add(time.Hour).Unix())}
	if err := sig.Sign(priv.(crypto.Signer), []dns.RR{rr}); err != nil {
		t.Fatal(err)
	}
	return key, sig
}
