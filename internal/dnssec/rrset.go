package dnssec

import (
	"errors"
	"fmt"
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
		err := verifySig(sig, rrset, keys, now, MaxKeysPerTag, &budget)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// verifySig checks one signature of rrset against the keys that match it
// (at most maxKeys of them; all when maxKeys is 0), spending at most
// *budget verifications when budget is not nil.
func verifySig(sig *dns.RRSIG, rrset []dns.RR, keys []*dns.DNSKEY, now time.Time, maxKeys int, budget *int) error {
	h := rrset[0].Header()
	if err := sigMatches(sig, rrset); err != nil {
		return err
	}
	if !CanVerify(sig.Algorithm) {
		return fmt.Errorf("%w: cannot verify algorithm %s", ErrAlgorithm, algorithmName(sig.Algorithm))
	}
	var candidates []*dns.DNSKEY
	for _, k := range keys {
		if k.Algorithm == sig.Algorithm && k.KeyTag() == sig.KeyTag && dnsname.Canonical(k.Hdr.Name) == dnsname.Canonical(sig.SignerName) &&
			k.Flags&FlagZone != 0 && k.Flags&FlagRevoke == 0 && k.Protocol == 3 {
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
	verified := false
	for _, k := range candidates {
		if budget != nil {
			if *budget <= 0 {
				return ErrTooMuchWork
			}
			*budget--
		}
		if err := verifyOne(sig, k, rrset); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return fmt.Errorf("%w: RRSIG %s/%s by key %d does not verify", ErrBadSignature, h.Name, dns.Type(sig.TypeCovered), sig.KeyTag)
	}
	return nil
}

// sigMatches checks that sig is about rrset (RFC 4035 §5.3.1): same owner
// and class, the right type, no more labels than the owner has, and TTLs
// not above the original TTL.
func sigMatches(sig *dns.RRSIG, rrset []dns.RR) error {
	h := rrset[0].Header()
	switch {
	case dnsname.Canonical(sig.Hdr.Name) != dnsname.Canonical(h.Name) || sig.Hdr.Class != h.Class:
		return fmt.Errorf("%w: RRSIG owner %s, RRset owner %s", ErrSignatureMismatch, sig.Hdr.Name, h.Name)
	case sig.TypeCovered != h.Rrtype:
		return fmt.Errorf("%w: RRSIG covers %s, not %s", ErrSignatureMismatch, dns.Type(sig.TypeCovered), dns.Type(h.Rrtype))
	case int(sig.Labels) > dns.CountLabel(h.Name):
		return fmt.Errorf("%w: RRSIG labels %d, owner %s has %d", ErrSignatureMismatch, sig.Labels, h.Name, dns.CountLabel(h.Name))
	case !dns.IsSubDomain(sig.SignerName, h.Name):
		return fmt.Errorf("%w: signer %s is not above the owner %s", ErrSignatureMismatch, sig.SignerName, h.Name)
	}
	for _, rr := range rrset {
		if rr.Header().Ttl > sig.OrigTtl {
			return fmt.Errorf("%w: TTL %d above the RRSIG's original TTL %d", ErrSignatureMismatch, rr.Header().Ttl, sig.OrigTtl)
		}
	}
	return nil
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
