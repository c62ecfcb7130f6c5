package dnssec

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// Reasons an RRset fails verification. VerifyRRset returns them wrapped,
// joined when several signatures failed for different reasons; test with
// errors.Is.
var (
	// ErrNoSignature means the RRset has no RRSIG at all.
	ErrNoSignature = errors.New("dnssec: no signature")
	// ErrNoKey means no DNSKEY matches a signature's algorithm, key tag
	// and signer name.
	ErrNoKey = errors.New("dnssec: no matching DNSKEY")
	// ErrBadSignature means the signature does not verify: the data, the
	// signature or the key was changed, or they do not belong together.
	ErrBadSignature = errors.New("dnssec: bad signature")
	// ErrExpired means the signature's expiration is in the past.
	ErrExpired = errors.New("dnssec: signature expired")
	// ErrNotYetValid means the signature's inception is in the future.
	ErrNotYetValid = errors.New("dnssec: signature not yet valid")
	// ErrSignatureMismatch means the RRSIG does not describe the RRset:
	// other owner, class or type, too many labels, or a TTL above its
	// original TTL (RFC 4035 §5.3.1).
	ErrSignatureMismatch = errors.New("dnssec: signature does not match the RRset")
	// ErrTooMuchWork means the limits MaxVerifyPerRRset or MaxKeysPerTag
	// stopped the verification before a valid signature was found
	// (KeyTrap, CVE-2023-50387).
	ErrTooMuchWork = errors.New("dnssec: too many signatures or colliding keys")
)

// VerifyRRset checks that at least one of sigs is a valid signature of
// rrset by one of keys at time now (RFC 4035 §5.3): the RRSIG matches the
// RRset's owner, class and type, a DNSKEY with its algorithm, key tag and
// signer name exists, the signature verifies, and now is within its
// validity period. It is the check a validator makes once it trusts keys;
// it spends at most MaxVerifyPerRRset public-key operations and tries at
// most MaxKeysPerTag keys per signature. It returns nil when rrset is
// proven, else an error wrapping the reasons (ErrNoSignature, ErrNoKey,
// ErrBadSignature, ErrExpired, ErrNotYetValid, ErrSignatureMismatch,
// ErrAlgorithm, ErrTooMuchWork).
func VerifyRRset(rrset []dns.RR, sigs []*dns.RRSIG, keys []*dns.DNSKEY, now time.Time) error {
	if len(rrset) == 0 || !dns.IsRRset(rrset) {
		return fmt.Errorf("%w: not an RRset", ErrSignatureMismatch)
	}
	if len(sigs) == 0 {
		return ErrNoSignature
	}
	budget := MaxVerifyPerRRset
	var errs []error
	for _, sig := range sigs {
		if budget == 0 {
			errs = append(errs, ErrTooMuchWork)
			break
		}
		err := verifySig(sig, rrset, matchingKeys(sig, keys), now, MaxKeysPerTag, &budget, nil)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Memory remembers signatures that verified, so that a signature met
// again costs no public-key operation. VerifySignature gives it a digest
// of everything the cryptography depends on: the signed data (the RRSIG's
// fields and the RRset in canonical form), the signature, and the
// algorithm and material of each key it would try. The checks that do
// not need the cryptography (the RRSIG matches the RRset, its validity
// period, the keys' flags) are made on every call, memory or not.
type Memory interface {
	// Verified reports whether a signature with this digest verified
	// before. When it returns false, VerifySignature goes on to the
	// public-key operations.
	Verified(digest [sha256.Size]byte) bool
	// Remember records that the signature with this digest verified.
	Remember(digest [sha256.Size]byte)
}

// VerifySignature checks that sig is a valid signature of rrset by one of
// keys at time now, with the checks and errors of VerifyRRset for one
// signature; it tries every key that matches the signature, so the
// caller bounds them (KeyTrap). With mem not nil it asks mem first and
// tells it what verified.
func VerifySignature(rrset []dns.RR, sig *dns.RRSIG, keys []*PublicKey, now time.Time, mem Memory) error {
	if len(rrset) == 0 || !dns.IsRRset(rrset) {
		return fmt.Errorf("%w: not an RRset", ErrSignatureMismatch)
	}
	return verifySig(sig, rrset, keys, now, 0, nil, mem)
}

// matchingKeys prepares the keys with sig's algorithm and key tag, the
// only ones verifySig may use.
func matchingKeys(sig *dns.RRSIG, keys []*dns.DNSKEY) []*PublicKey {
	var out []*PublicKey
	for _, k := range keys {
		if k.Algorithm == sig.Algorithm && k.KeyTag() == sig.KeyTag {
			out = append(out, NewPublicKey(k))
		}
	}
	return out
}

// verifySig checks one signature of rrset against the keys that match it
// (at most maxKeys of them; all when maxKeys is 0), spending at most
// *budget verifications when budget is not nil, asking mem first when it
// is not nil. The signed data is built once for all the keys.
func verifySig(sig *dns.RRSIG, rrset []dns.RR, keys []*PublicKey, now time.Time, maxKeys int, budget *int, mem Memory) error {
	h := rrset[0].Header()
	if err := sigMatches(sig, rrset); err != nil {
		return err
	}
	if !CanVerify(sig.Algorithm) {
		return fmt.Errorf("%w: cannot verify algorithm %s", ErrAlgorithm, algorithmName(sig.Algorithm))
	}
	var first [2]*PublicKey // most signatures have one candidate key: no allocation
	candidates := first[:0]
	signer := dnsname.Canonical(sig.SignerName)
	for _, k := range keys {
		if k.usable(sig, signer) {
			candidates = append(candidates, k)
		}
	}
	if len(candidates) == 0 {
		return fmt.Errorf("%w: no DNSKEY %s/%s/%d for the RRSIG", ErrNoKey, sig.SignerName, algorithmName(sig.Algorithm), sig.KeyTag)
	}
	if err := sigTime(sig, now); err != nil {
		return err
	}
	if maxKeys > 0 && len(candidates) > maxKeys {
		candidates = candidates[:maxKeys]
	}
	bad := func() error {
		return fmt.Errorf("%w: RRSIG %s/%s by key %d does not verify", ErrBadSignature, h.Name, dns.Type(sig.TypeCovered), sig.KeyTag)
	}
	s := getScratch()
	defer s.put()
	var data []byte
	if mem != nil || verifiesSignedData(sig.Algorithm) {
		var err error
		data, err = appendSignedData(s.data[:0], s, sig, rrset)
		s.data = data
		if err != nil {
			return bad()
		}
	}
	var digest [sha256.Size]byte
	if mem != nil {
		digest = s.digest(sig, candidates)
		if mem.Verified(digest) {
			return nil
		}
	}
	raw, err := s.signature(sig)
	if err != nil {
		return bad()
	}
	for _, k := range candidates {
		if budget != nil {
			if *budget <= 0 {
				return ErrTooMuchWork
			}
			*budget--
		}
		if k.verifyData(sig, raw, data, rrset, s) {
			if mem != nil {
				mem.Remember(digest)
			}
			return nil
		}
	}
	return bad()
}

// signature decodes sig's signature into s.
func (s *scratch) signature(sig *dns.RRSIG) ([]byte, error) {
	raw := slices.Grow(s.sig[:0], base64.StdEncoding.DecodedLen(len(sig.Signature)))
	n, err := base64.StdEncoding.Decode(raw[:cap(raw)], []byte(sig.Signature))
	s.sig = raw[:n]
	return s.sig, err
}

// digest is the Memory digest of sig over the signed data in s.data with
// keys: SHA-256 of the signed data, the signature and each key's
// algorithm and material, every variable part preceded by its length.
func (s *scratch) digest(sig *dns.RRSIG, keys []*PublicKey) [sha256.Size]byte {
	b := binary.BigEndian.AppendUint32(s.key[:0], uint32(len(s.data)))
	b = append(b, s.data...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(sig.Signature)))
	b = append(b, sig.Signature...)
	for _, k := range keys {
		b = append(b, k.DNSKEY.Algorithm)
		b = binary.BigEndian.AppendUint32(b, uint32(len(k.DNSKEY.PublicKey)))
		b = append(b, k.DNSKEY.PublicKey...)
	}
	s.key = b
	return sha256.Sum256(b)
}

// sigMatches checks that sig is about rrset (RFC 4035 §5.3.1): same owner
// and class, the right type, no more labels than the owner has, and TTLs
// not above the original TTL.
func sigMatches(sig *dns.RRSIG, rrset []dns.RR) error {
	h := rrset[0].Header()
	switch {
	case !sameName(sig.Hdr.Name, h.Name) || sig.Hdr.Class != h.Class:
		return fmt.Errorf("%w: RRSIG owner %s, RRset owner %s", ErrSignatureMismatch, sig.Hdr.Name, h.Name)
	case sig.TypeCovered != h.Rrtype:
		return fmt.Errorf("%w: RRSIG covers %s, not %s", ErrSignatureMismatch, dns.Type(sig.TypeCovered), dns.Type(h.Rrtype))
	case int(sig.Labels) > dns.CountLabel(h.Name):
		return fmt.Errorf("%w: RRSIG labels %d, owner %s has %d", ErrSignatureMismatch, sig.Labels, h.Name, dns.CountLabel(h.Name))
	case !dnsname.IsSubdomain(h.Name, sig.SignerName):
		return fmt.Errorf("%w: signer %s is not above the owner %s", ErrSignatureMismatch, sig.SignerName, h.Name)
	}
	for _, rr := range rrset {
		if rr.Header().Ttl > sig.OrigTtl {
			return fmt.Errorf("%w: TTL %d above the RRSIG's original TTL %d", ErrSignatureMismatch, rr.Header().Ttl, sig.OrigTtl)
		}
	}
	return nil
}

// sameName reports whether a and b are one domain name, their ASCII
// letters compared without case (RFC 4343), as miekg/dns compares them:
// the check of every verification, so it makes no lower-case copies
// (a 0x20 reply's owner names are in mixed case).
func sameName(a, b string) bool {
	return dnsname.EqualFold(dns.Fqdn(a), dns.Fqdn(b))
}

// sigTime checks that now lies within the validity period of sig, in
// RFC 1982 serial number arithmetic (RFC 4034 §3.1.5).
func sigTime(sig *dns.RRSIG, now time.Time) error {
	if sig.ValidityPeriod(now) {
		return nil
	}
	t := uint32(now.Unix())
	// Serial arithmetic: inception is "after" now when the difference,
	// read as signed 32-bit, is positive.
	if int32(sig.Inception-t) > 0 {
		return fmt.Errorf("%w: inception %s is after %s", ErrNotYetValid, dns.TimeToString(sig.Inception), dns.TimeToString(t))
	}
	return fmt.Errorf("%w: expiration %s is before %s", ErrExpired, dns.TimeToString(sig.Expiration), dns.TimeToString(t))
}

// verifyOne checks the cryptography of sig over rrset with key: miekg/dns
// for the algorithms it implements, circl for Ed448.
func verifyOne(sig *dns.RRSIG, key *dns.DNSKEY, rrset []dns.RR) error {
	if sig.Algorithm == dns.ED448 {
		return verifyEd448(sig, key, rrset)
	}
	return sig.Verify(key, rrset)
}
