package dnssec

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"math/big"
	"slices"

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
// s lends its buffer for the ECDSA signature's DER form.
func (k *PublicKey) verifyData(sig *dns.RRSIG, raw, data []byte, rrset []dns.RR, s *scratch) bool {
	if k.DNSKEY.Hdr.Class != sig.Hdr.Class {
		return false // as RRSIG.Verify: the key must be of the RRSIG's class
	}
	switch sig.Algorithm {
	case dns.ECDSAP256SHA256:
		if k.ecdsa == nil {
			return false
		}
		h := sha256.Sum256(data)
		return verifyECDSA(k.ecdsa, h[:], raw, 32, s)
	case dns.ECDSAP384SHA384:
		if k.ecdsa == nil {
			return false
		}
		h := sha512.Sum384(data)
		return verifyECDSA(k.ecdsa, h[:], raw, 48, s)
	case dns.ED25519:
		return k.ed25519 != nil && ed25519.Verify(k.ed25519, data, raw)
	}
	return verifyOne(sig, k.DNSKEY, rrset) == nil
}

// verifiesSignedData reports whether verifyData checks signatures of
// algorithm alg over the signed data verifySig builds (ECDSA, Ed25519);
// for the others miekg/dns and circl build their own, so verifySig
// builds it only for a Memory's digest.
func verifiesSignedData(alg uint8) bool {
	switch alg {
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519:
		return true
	}
	return false
}

// verifyECDSA checks an ECDSA signature in the DNS form (RFC 6605 §4: r
// and s, each size octets, one after the other) over hash. A signature
// of that length is handed to crypto/ecdsa in the ASN.1 form it parses
// (without the big integers ecdsa.Verify makes, only to encode them
// again), built in s; one of another length is halved, as miekg/dns
// does.
func verifyECDSA(pub *ecdsa.PublicKey, hash, raw []byte, size int, s *scratch) bool {
	if len(raw) == 2*size {
		s.der = appendDERSignature(slices.Grow(s.der[:0], maxDERSignature), raw[:size], raw[size:])
		return ecdsa.VerifyASN1(pub, hash, s.der)
	}
	r := new(big.Int).SetBytes(raw[:len(raw)/2])
	t := new(big.Int).SetBytes(raw[len(raw)/2:])
	return ecdsa.Verify(pub, hash, r, t)
}

// maxDERSignature is the longest DER signature appendDERSignature makes
// from the halves of a P-384 signature: a SEQUENCE header and two
// INTEGERs of at most 49 octets (48 and a leading zero), each with its
// header.
const maxDERSignature = 2 + 2*(2+49)

// appendDERSignature appends the ECDSA signature (r, s), two unsigned
// big-endian numbers of at most 48 octets, in the form crypto/ecdsa's
// VerifyASN1 reads (RFC 3279 §2.2.3: a SEQUENCE of two INTEGERs, DER:
// minimal two's complement, so no leading zero octet unless the next
// octet's high bit is set). Every length fits in one octet.
func appendDERSignature(b, r, s []byte) []byte {
	r, s = trimZeros(r), trimZeros(s)
	rl, sl := derIntegerLen(r), derIntegerLen(s)
	b = append(b, 0x30, byte(2+rl+2+sl)) // SEQUENCE
	b = appendDERInteger(b, r, rl)
	return appendDERInteger(b, s, sl)
}

// trimZeros returns n without its leading zero octets.
func trimZeros(n []byte) []byte {
	for len(n) > 0 && n[0] == 0 {
		n = n[1:]
	}
	return n
}

// derIntegerLen returns the length of the content of the DER INTEGER of
// n, an unsigned number without leading zero octets: one octet more when
// its high bit is set (two's complement) or when it is zero.
func derIntegerLen(n []byte) int {
	if len(n) == 0 || n[0]&0x80 != 0 {
		return len(n) + 1
	}
	return len(n)
}

// appendDERInteger appends the INTEGER of n whose content is l octets
// long (derIntegerLen).
func appendDERInteger(b, n []byte, l int) []byte {
	b = append(b, 0x02, byte(l))
	if l > len(n) {
		b = append(b, 0)
	}
	return append(b, n...)
}
