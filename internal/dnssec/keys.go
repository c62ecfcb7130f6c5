package dnssec

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// DNSKEY flag bits (RFC 4034 §2.1.1, RFC 5011 §7).
const (
	// FlagZone is the Zone Key flag: the key may verify zone data. Every
	// DNSSEC key has it.
	FlagZone uint16 = dns.ZONE
	// FlagSEP is the Secure Entry Point flag, set on key-signing keys:
	// the key the parent's DS record points to.
	FlagSEP uint16 = dns.SEP
	// FlagRevoke is the RFC 5011 revoke flag.
	FlagRevoke uint16 = dns.REVOKE

	// FlagsZSK are the flags of a zone-signing key (256).
	FlagsZSK = FlagZone
	// FlagsKSK are the flags of a key-signing key or a combined signing
	// key (257).
	FlagsKSK = FlagZone | FlagSEP
)

// Errors about keys. They are wrapped with the file or key they concern.
var (
	// ErrAlgorithm means rensa cannot sign with (or, for verification,
	// does not implement) the DNSSEC algorithm of a key.
	ErrAlgorithm = errors.New("dnssec: unsupported algorithm")
	// ErrKeyMismatch means a private key does not belong to its public
	// DNSKEY record, or a key belongs to another zone.
	ErrKeyMismatch = errors.New("dnssec: key mismatch")
	// ErrBadKey means a key file or a DNSKEY record cannot be used: it
	// does not parse, has the wrong flags or protocol, or holds an
	// invalid public or private key.
	ErrBadKey = errors.New("dnssec: bad key")
)

// Role is what a key signs in a zone.
type Role uint8

// The roles of DNSSEC keys (RFC 6781 §3.1).
const (
	// RoleZSK is a zone-signing key: it signs every RRset but DNSKEY.
	RoleZSK Role = iota + 1
	// RoleKSK is a key-signing key (SEP flag): it signs the DNSKEY RRset
	// and is what the parent's DS record names.
	RoleKSK
	// RoleCSK is a combined signing key: one key (with the SEP flag)
	// signing everything.
	RoleCSK
)

// String returns "ZSK", "KSK" or "CSK".
func (r Role) String() string {
	switch r {
	case RoleZSK:
		return "ZSK"
	case RoleKSK:
		return "KSK"
	case RoleCSK:
		return "CSK"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Key is one DNSSEC key of a zone: the public DNSKEY record and, for keys
// that sign, the private key.
type Key struct {
	// DNSKEY is the public key record; its owner is the zone's apex.
	DNSKEY *dns.DNSKEY
	// Signer is the private key: *rsa.PrivateKey, *ecdsa.PrivateKey or
	// ed25519.PrivateKey. It is nil for a key read without its private
	// part.
	Signer crypto.Signer
	// File is the path of the .key file the key was read from, "" for a
	// key made by Generate. Errors about the key name it.
	File string
}

// Tag returns the key tag of the key (RFC 4034 Appendix B).
func (k *Key) Tag() uint16 { return k.DNSKEY.KeyTag() }

// Algorithm returns the DNSSEC algorithm number of the key.
func (k *Key) Algorithm() uint8 { return k.DNSKEY.Algorithm }

// Zone returns the key's owner name, the apex of its zone, in canonical
// form.
func (k *Key) Zone() string { return dnsname.Canonical(k.DNSKEY.Hdr.Name) }

// IsKSK reports whether the key has the SEP flag (RFC 4034 §2.1.1): it is
// a key-signing key or a combined signing key.
func (k *Key) IsKSK() bool { return k.DNSKEY.Flags&FlagSEP != 0 }

// BaseName returns the BIND file name of the key without extension:
// K<zone>+<algorithm>+<tag>, as in Kexample.com.+013+12345.
func (k *Key) BaseName() string {
	return fmt.Sprintf("K%s+%03d+%05d", k.Zone(), k.Algorithm(), k.Tag())
}

// String names the key for messages: its file when it was read from one,
// else its zone, algorithm and tag.
func (k *Key) String() string {
	if k.File != "" {
		return k.File
	}
	return fmt.Sprintf("key %s/%s/%d", k.Zone(), algorithmName(k.Algorithm()), k.Tag())
}

// DS returns the DS record of the key with the given digest type
// (dns.SHA256, dns.SHA384; dns.SHA1 only for old vectors), with the
// DNSKEY's TTL.
func (k *Key) DS(digest uint8) (*dns.DS, error) {
	return DS(k.DNSKEY, digest)
}

// DS returns the DS record for a DNSKEY (RFC 4034 §5.1.4, RFC 4509):
// digest(owner | DNSKEY RDATA), computed by miekg/dns.
func DS(key *dns.DNSKEY, digest uint8) (*dns.DS, error) {
	switch digest {
	case dns.SHA1, dns.SHA256, dns.SHA384:
	default:
		return nil, fmt.Errorf("dnssec: unsupported DS digest type %d (known: 1 SHA-1, 2 SHA-256, 4 SHA-384)", digest)
	}
	ds := key.ToDS(digest)
	if ds == nil {
		return nil, fmt.Errorf("%w: cannot compute the DS of %s", ErrBadKey, key.Hdr.Name)
	}
	return ds, nil
}

// CanSign reports whether rensa signs with algorithm alg. RSASHA1 and the
// older algorithms are excluded: RFC 8624 §3.1 says MUST NOT or NOT
// RECOMMENDED for signing.
func CanSign(alg uint8) bool {
	switch alg {
	case dns.RSASHA256, dns.RSASHA512, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519:
		return true
	}
	return false
}

// CanVerify reports whether Verify and VerifyRRset can check signatures
// of algorithm alg.
func CanVerify(alg uint8) bool {
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.ED448:
		return true
	}
	return CanSign(alg)
}

// algorithmName returns the mnemonic of alg, or its number.
func algorithmName(alg uint8) string {
	if s, ok := dns.AlgorithmToString[alg]; ok {
		return s
	}
	return fmt.Sprintf("%d", alg)
}

// ParseAlgorithm reads a DNSSEC algorithm mnemonic (ECDSAP256SHA256,
// case-insensitive) or number.
func ParseAlgorithm(s string) (uint8, error) {
	if a, ok := dns.StringToAlgorithm[strings.ToUpper(s)]; ok {
		return a, nil
	}
	var n uint8
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		return n, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrAlgorithm, s)
}

// Generate makes a new key for the zone origin with the given algorithm
// and flags (FlagsZSK or FlagsKSK). bits is the RSA modulus size (0 for
// DefaultRSABits) and must be 0 or the curve's size for the other
// algorithms. Ed25519 and ECDSA keys are drawn from rand, so a
// deterministic rand gives a deterministic key; RSA keys always come from
// the system's secure source (crypto/rsa ignores the reader since Go 1.26).
func Generate(origin string, alg uint8, flags uint16, bits int, rand io.Reader) (*Key, error) {
	origin = dnsname.Canonical(origin)
	if _, ok := dns.IsDomainName(origin); !ok {
		return nil, fmt.Errorf("dnssec: bad zone name %q", origin)
	}
	if flags&^(FlagZone|FlagSEP) != 0 || flags&FlagZone == 0 {
		return nil, fmt.Errorf("%w: flags %d: want 256 (ZSK) or 257 (KSK)", ErrBadKey, flags)
	}
	if !CanSign(alg) {
		return nil, fmt.Errorf("%w: rensa does not make %s keys (it signs with RSASHA256, RSASHA512, ECDSAP256SHA256, ECDSAP384SHA384, ED25519)", ErrAlgorithm, algorithmName(alg))
	}
	signer, err := generateSigner(alg, bits, rand)
	if err != nil {
		return nil, err
	}
	pub, err := publicKeyBytes(signer.Public())
	if err != nil {
		return nil, err
	}
	key := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
		PublicKey: base64.StdEncoding.EncodeToString(pub),
	}
	return &Key{DNSKEY: key, Signer: signer}, nil
}

// generateSigner makes the private key of a new key.
func generateSigner(alg uint8, bits int, rand io.Reader) (crypto.Signer, error) {
	switch alg {
	case dns.RSASHA256, dns.RSASHA512:
		if bits == 0 {
			bits = DefaultRSABits
		}
		if bits < MinRSABits || bits > MaxRSABits {
			return nil, fmt.Errorf("%w: RSA keys must have %d to %d bits, not %d", ErrBadKey, MinRSABits, MaxRSABits, bits)
		}
		return rsa.GenerateKey(rand, bits)
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		curve := curveOf(alg)
		if bits != 0 && bits != curve.Params().BitSize {
			return nil, fmt.Errorf("%w: %s keys have %d bits, not %d", ErrBadKey, algorithmName(alg), curve.Params().BitSize, bits)
		}
		return generateECDSA(curve, rand)
	case dns.ED25519:
		if bits != 0 && bits != 256 {
			return nil, fmt.Errorf("%w: ED25519 keys have 256 bits, not %d", ErrBadKey, bits)
		}
		_, priv, err := ed25519.GenerateKey(rand)
		if err != nil {
			return nil, fmt.Errorf("dnssec: generating an Ed25519 key: %w", err)
		}
		return priv, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrAlgorithm, algorithmName(alg))
}

// generateECDSA draws a private scalar from rand by rejection sampling,
// so that the key depends on rand alone (crypto/ecdsa.GenerateKey ignores
// its reader since Go 1.26).
func generateECDSA(curve elliptic.Curve, rand io.Reader) (*ecdsa.PrivateKey, error) {
	buf := make([]byte, (curve.Params().BitSize+7)/8)
	for range maxGenerateTries {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return nil, fmt.Errorf("dnssec: reading randomness: %w", err)
		}
		if priv, err := ecdsa.ParseRawPrivateKey(curve, buf); err == nil {
			return priv, nil
		}
	}
	return nil, errors.New("dnssec: the random source gave no valid ECDSA scalar")
}

// curveOf returns the curve of an ECDSA algorithm, nil for others.
func curveOf(alg uint8) elliptic.Curve {
	switch alg {
	case dns.ECDSAP256SHA256:
		return elliptic.P256()
	case dns.ECDSAP384SHA384:
		return elliptic.P384()
	}
	return nil
}

// publicKeyBytes encodes a public key as the DNSKEY public key field:
// RFC 3110 §2 for RSA (exponent length, exponent, modulus), RFC 6605 §4
// for ECDSA (X | Y), RFC 8080 §3 for Ed25519 (the 32 octets).
func publicKeyBytes(pub crypto.PublicKey) ([]byte, error) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		e := big.NewInt(int64(pub.E)).Bytes()
		var out []byte
		if len(e) < 256 {
			out = append(out, byte(len(e)))
		} else {
			out = append(out, 0, byte(len(e)>>8), byte(len(e)))
		}
		out = append(out, e...)
		return append(out, pub.N.Bytes()...), nil
	case *ecdsa.PublicKey:
		b, err := pub.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		return b[1:], nil // drop the 0x04 "uncompressed" marker
	case ed25519.PublicKey:
		return bytes.Clone(pub), nil
	}
	return nil, fmt.Errorf("%w: public key of type %T", ErrAlgorithm, pub)
}

// checkPair verifies that signer is the private half of key: that its
// public key encodes to the DNSKEY's public key field.
func checkPair(key *dns.DNSKEY, signer crypto.Signer) error {
	pub, err := publicKeyBytes(signer.Public())
	if err != nil {
		return err
	}
	have, err := base64.StdEncoding.DecodeString(key.PublicKey)
	if err != nil || !bytes.Equal(pub, have) {
		return fmt.Errorf("%w: the private key does not belong to DNSKEY %d %s (key tag %d)",
			ErrKeyMismatch, key.Flags, algorithmName(key.Algorithm), key.KeyTag())
	}
	return nil
}

// checkPublicKey checks that the public key field of a DNSKEY of an
// algorithm rensa signs with is a well-formed key of that algorithm.
func checkPublicKey(key *dns.DNSKEY) error {
	raw, err := base64.StdEncoding.DecodeString(key.PublicKey)
	if err != nil {
		return fmt.Errorf("%w: the public key is not base64: %v", ErrBadKey, err)
	}
	switch key.Algorithm {
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		if _, err := ecdsa.ParseUncompressedPublicKey(curveOf(key.Algorithm), append([]byte{4}, raw...)); err != nil {
			return fmt.Errorf("%w: not a %s public key: %v", ErrBadKey, algorithmName(key.Algorithm), err)
		}
	case dns.ED25519:
		if len(raw) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: an ED25519 public key has %d octets, not %d", ErrBadKey, ed25519.PublicKeySize, len(raw))
		}
	case dns.RSASHA256, dns.RSASHA512:
		// RFC 3110 §2: exponent length (1 or 3 octets), exponent, modulus.
		if len(raw) < 3 || (raw[0] == 0 && len(raw) < 4) {
			return fmt.Errorf("%w: RSA public key too short", ErrBadKey)
		}
		elen, off := int(raw[0]), 1
		if elen == 0 {
			elen, off = int(raw[1])<<8|int(raw[2]), 3
		}
		if elen == 0 || off+elen >= len(raw) {
			return fmt.Errorf("%w: malformed RSA public key", ErrBadKey)
		}
	}
	return nil
}

// checkDNSKEY checks the fields of a DNSKEY that a signing key needs:
// protocol 3 and the Zone Key flag (RFC 4034 §2.1), no revoke flag, and an
// algorithm rensa can sign with.
func checkDNSKEY(key *dns.DNSKEY) error {
	switch {
	case key.Protocol != 3:
		return fmt.Errorf("%w: DNSKEY protocol %d, want 3 (RFC 4034 §2.1.2)", ErrBadKey, key.Protocol)
	case key.Flags&FlagZone == 0:
		return fmt.Errorf("%w: DNSKEY flags %d lack the Zone Key bit (256)", ErrBadKey, key.Flags)
	case key.Flags&FlagRevoke != 0:
		return fmt.Errorf("%w: DNSKEY flags %d: the key is revoked (RFC 5011)", ErrBadKey, key.Flags)
	case !CanSign(key.Algorithm):
		return fmt.Errorf("%w: rensa cannot sign with algorithm %s (it signs with RSASHA256, RSASHA512, ECDSAP256SHA256, ECDSAP384SHA384, ED25519)",
			ErrAlgorithm, algorithmName(key.Algorithm))
	}
	return checkPublicKey(key)
}

// normalizeSigner returns the private key as miekg/dns parsed it, checked
// and rebuilt from its private scalar so that the public key is derived
// from it rather than copied from the DNSKEY (miekg/dns copies it).
func normalizeSigner(key *dns.DNSKEY, priv crypto.PrivateKey) (crypto.Signer, error) {
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%w: the RSA private key does not belong to DNSKEY tag %d: %v", ErrKeyMismatch, key.KeyTag(), err)
		}
		p.Precompute()
		return p, nil
	case *ecdsa.PrivateKey:
		raw, err := p.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		rebuilt, err := ecdsa.ParseRawPrivateKey(curveOf(key.Algorithm), raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		return rebuilt, nil
	case ed25519.PrivateKey:
		if len(p) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: no Ed25519 private key", ErrBadKey)
		}
		return p, nil
	}
	return nil, fmt.Errorf("%w: private key of type %T", ErrAlgorithm, priv)
}
