package dnssec

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"math/big"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// PublicKey is a DNSKEY made ready to verify many signatures: its key tag
// and canonical owner computed, and its public key decoded, once. A
// validator keeps one per proven key instead of a *dns.DNSKEY, whose key
// tag miekg/dns computes (packing the key) and whose key it decodes from
// base64 on every call. The record must not change afterwards.
type PublicKey struct {
	// DNSKEY is the record.
	DNSKEY *dns.DNSKEY
	// Tag is its key tag (RFC 4034 Appendix B).
	Tag uint16

	owner string // canonical owner name
	// ecdsa and ed25519 are the decoded keys of algorithms 13 and 14, and
	// 15: nil when the key material is malformed, so nothing verifies
	// with it. Other algorithms (RSA, Ed448) are verified from the record
	// by miekg/dns and circl (verifyOne).
	ecdsa   *ecdsa.PublicKey
	ed25519 ed25519.PublicKey
}

// NewPublicKey prepares k. A key whose material is malformed is returned
// too: no signature verifies with it.
func NewPublicKey(k *dns.DNSKEY) *PublicKey {
	p := &PublicKey{DNSKEY: k, Tag: k.KeyTag(), owner: dnsname.Canonical(k.Hdr.Name)}
	switch k.Algorithm {
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		raw, err := base64.StdEncoding.DecodeString(k.PublicKey)
		if err != nil || len(raw) != 2*curveOf(k.Algorithm).Params().BitSize/8 {
			return p
		}
		// RFC 6605 §4: the key is the point's X and Y; crypto/ecdsa
		// parses it with the uncompressed point prefix and checks that
		// it is on the curve.
		if pub, err := ecdsa.ParseUncompressedPublicKey(curveOf(k.Algorithm), append([]byte{4}, raw...)); err == nil {
			p.ecdsa = pub
		}
	case dns.ED25519:
		raw, err := base64.StdEncoding.DecodeString(k.PublicKey)
		if err == nil && len(raw) == ed25519.PublicKeySize {
			p.ed25519 = raw
		}
	}
	return p
}

// PublicKeys prepares each of keys (NewPublicKey).
func PublicKeys(keys []*dns.DNSKEY) []*PublicKey {
	out := make([]*PublicKey, len(keys))
	for i, k := range keys {
		out[i] = NewPublicKey(k)
	}
	return out
}

// usable reports whether k may verify sig: same algorithm, key tag,
// owner as the signer, the zone flag, not revoked, protocol 3 (RFC 4034
// §2.1.1, §2.1.2; RFC 5011 §3).
func (k *PublicKey) usable(sig *dns.RRSIG, signer string) bool {
	d := k.DNSKEY
	return d.Algorithm == sig.Algorithm && k.Tag == sig.KeyTag && k.owner == signer &&
		d.Flags&FlagZone != 0 && d.Flags&FlagRevoke == 0 && d.Protocol == 3
}

// verifyData checks the cryptography of sig, whose signature is raw,
// over its signed data data with k: crypto/ecdsa and crypto/ed25519 for
// the keys NewPublicKey decoded; miekg/dns (RSA) and circl (Ed448) from
// the records otherwise, which build the signed data again themselves.
func (k *PublicKey) verifyData(sig *dns.RRSIG, raw, data []byte, rrset []dns.RR) bool {
	if k.DNSKEY.Hdr.Class != sig.Hdr.Class {
		return false // as RRSIG.Verify: the key must be of the RRSIG's class
	}
	switch sig.Algorithm {
	case dns.ECDSAP256SHA256:
		if k.ecdsa == nil {
			return false
		}
		h := sha256.Sum256(data)
		return verifyECDSA(k.ecdsa, h[:], raw)
	case dns.ECDSAP384SHA384:
		if k.ecdsa == nil {
			return false
		}
		h := sha512.Sum384(data)
		return verifyECDSA(k.ecdsa, h[:], raw)
	case dns.ED25519:
		return k.ed25519 != nil && ed25519.Verify(k.ed25519, data, raw)
	}
	return verifyOne(sig, k.DNSKEY, rrset) == nil
}

// verifyECDSA checks an ECDSA signature in the DNS form (RFC 6605 §4: r
// and s, each as long as the curve's order, one after the other) over
// hash, halving it as miekg/dns does.
func verifyECDSA(pub *ecdsa.PublicKey, hash, raw []byte) bool {
	r := new(big.Int).SetBytes(raw[:len(raw)/2])
	s := new(big.Int).SetBytes(raw[len(raw)/2:])
	return ecdsa.Verify(pub, hash, r, s)
}
