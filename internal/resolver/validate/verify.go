package validate

import (
	"errors"
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/dnssec"
)

// verify proves s with keys, the proven DNSKEY RRset of zone, at time now
// (RFC 4035 §5.3): one signature by zone that verifies is enough. It
// spends at most maxVerifyPerRRset verifications of the query's budget,
// trying at most maxKeysPerTag keys per signature (KeyTrap). It returns
// the signature that verified, or a failure naming the reason as an EDE.
func (st *state) verify(s *rrset, zone string, keys []*dnssec.PublicKey, now time.Time) (*dns.RRSIG, *failure) {
	if len(s.sigs) == 0 {
		return nil, bogus(dns.ExtendedErrorCodeRRSIGsMissing, "%s %s has no RRSIG in secure zone %s", s.name, dns.TypeToString[s.rtype], zone)
	}
	spent := 0
	var errs []error
	var tried error // the first failure of a signature a key was tried on
	for _, sig := range s.sigs {
		if dnsname.Canonical(sig.SignerName) != zone {
			errs = append(errs, fmt.Errorf("RRSIG by %s, not by the zone %s", sig.SignerName, zone))
			continue
		}
		var first [maxKeysPerTag]*dnssec.PublicKey // no allocation for the candidates
		cands := first[:0]
		for _, k := range keys {
			if k.DNSKEY.Algorithm == sig.Algorithm && k.Tag == sig.KeyTag && len(cands) < maxKeysPerTag {
				cands = append(cands, k)
			}
		}
		if len(cands) == 0 {
			errs = append(errs, fmt.Errorf("%w: key %d algorithm %d", dnssec.ErrNoKey, sig.KeyTag, sig.Algorithm))
			continue
		}
		if spent+len(cands) > maxVerifyPerRRset || st.work.Verifications+len(cands) > maxVerifyPerQuery {
			errs = append(errs, dnssec.ErrTooMuchWork)
			break
		}
		spent += len(cands)
		st.work.Verifications += len(cands)
		err := st.verifySig(s.rrs, sig, cands, now) // sigcache.go
		if err == nil {
			return sig, nil
		}
		errs = append(errs, err)
		if tried == nil {
			tried = err
		}
	}
	if len(errs) > 1 {
		// The first signature a key was tried on names the fault (an
		// expired KSK signature, not the ZSK's over the same DNSKEY
		// RRset, which no DS vouches for); the count says how much else
		// failed, without a line per signature.
		first := errs[0]
		if tried != nil {
			first = tried
		}
		return nil, sigFailure(s, fmt.Errorf("%w (and %d more failures)", first, len(errs)-1), errs...)
	}
	return nil, sigFailure(s, errors.Join(errs...), errs...)
}

// sigFailure maps the reasons signatures of s failed to an EDE: expired
// (7), not yet valid (8), missing key (9), too much work or anything else
// (6, DNSSEC Bogus).
func sigFailure(s *rrset, err error, all ...error) *failure {
	what := fmt.Sprintf("%s %s", s.name, dns.TypeToString[s.rtype])
	joined := errors.Join(all...)
	switch {
	case errors.Is(joined, dnssec.ErrTooMuchWork):
		return bogus(dns.ExtendedErrorCodeDNSBogus, "%s: verification limit reached (KeyTrap bound): %v", what, err)
	case errors.Is(err, dnssec.ErrBadSignature), errors.Is(err, dnssec.ErrSignatureMismatch):
		return bogus(dns.ExtendedErrorCodeDNSBogus, "%s: %v", what, err)
	case errors.Is(err, dnssec.ErrExpired):
		return bogus(dns.ExtendedErrorCodeSignatureExpired, "%s: %v", what, err)
	case errors.Is(err, dnssec.ErrNotYetValid):
		return bogus(dns.ExtendedErrorCodeSignatureNotYetValid, "%s: %v", what, err)
	case errors.Is(err, dnssec.ErrNoKey):
		return bogus(dns.ExtendedErrorCodeDNSKEYMissing, "%s: %v", what, err)
	}
	return bogus(dns.ExtendedErrorCodeDNSBogus, "%s: %v", what, err)
}

// supportedAlg reports whether the validator verifies signatures of
// algorithm alg: RSA/SHA-1 (5, 7), RSA/SHA-2 (8, 10), ECDSA (13, 14) and
// EdDSA (15, 16). Others make a zone Insecure (RFC 6840 §5.2).
func supportedAlg(alg uint8) bool {
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512,
		dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519, dns.ED448:
		return dnssec.CanVerify(alg)
	}
	return false
}

// supportedDigest reports whether the validator checks DS digests of type
// d: SHA-1 (1), SHA-256 (2), SHA-384 (4). GOST (3) and others make the DS
// unusable, and a zone with only such DS records Insecure (RFC 6840 §5.2).
func supportedDigest(d uint8) bool {
	return d == dns.SHA1 || d == dns.SHA256 || d == dns.SHA384
}
