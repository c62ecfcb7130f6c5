package dnssec

import "time"

// Limits and defaults of signing and verification (LIMITS.md, "Signing"
// and "NSEC3"). Each one is the number a mainstream signer or validator
// chose, with the RFC that asks for it.
const (
	// MaxNSEC3Iterations is the largest number of additional NSEC3 hash
	// iterations rensa signs with or accepts in a zone. Every iteration is
	// one more SHA-1 per name for every validator and every query; RFC
	// 9276 §3.1 says signers SHOULD use 0 and validators may treat
	// higher counts as insecure (CVE-2023-50868). 50 is the threshold
	// rensa's resolver applies too (DESIGN.md, LIMITS.md).
	MaxNSEC3Iterations = 50

	// MaxNSEC3SaltLength is the longest NSEC3 salt in octets: the salt
	// length is one octet on the wire (RFC 5155 §3.2). RFC 9276 §3.1
	// recommends no salt at all.
	MaxNSEC3SaltLength = 255

	// DefaultValidity is how long a new signature is valid: the
	// expiration minus the signing time. Fourteen days leaves a week or
	// more to notice a failed re-signing before validators see expired
	// signatures (BIND's and Knot's default; RFC 6781 §4.4.2).
	DefaultValidity = 14 * 24 * time.Hour

	// MinValidity is the shortest validity Sign accepts. Shorter
	// signatures expire before secondaries and caches pick them up
	// (RFC 6781 §4.4.2: the validity must exceed the TTLs and the
	// re-signing interval).
	MinValidity = time.Hour

	// MaxValidity is the longest validity Sign accepts. RRSIG times are
	// 32-bit serial numbers (RFC 4034 §3.1.5): anything near 68 years
	// wraps; long validities also widen the replay window of old data
	// (RFC 6781 §4.4.2).
	MaxValidity = 366 * 24 * time.Hour

	// DefaultInceptionOffset backdates the inception of new signatures so
	// that validators whose clocks run slow accept them at once (RFC 6781
	// §4.4.2.2; BIND uses one hour).
	DefaultInceptionOffset = time.Hour

	// DefaultJitter is the largest amount by which a signature's
	// expiration is brought forward at random, so that signatures made
	// in one run do not all expire, and need re-signing, in the same
	// second (RFC 6781 §4.4.2.3; BIND's signatures-jitter default).
	DefaultJitter = 12 * time.Hour

	// DefaultRSABits is the modulus size of new RSA keys: RFC 8624 §3.1
	// and NIST SP 800-57 put 2048 bits as the floor for RSA today.
	DefaultRSABits = 2048

	// MinRSABits and MaxRSABits bound the modulus of new RSA keys. Under
	// 2048 bits RSA is factorable by well-funded attackers (RFC 8624
	// §3.1); RFC 3110 §2 and RFC 5702 §2 stop at 4096 bits.
	MinRSABits = 2048
	MaxRSABits = 4096

	// MaxVerifyPerRRset bounds the signature verifications spent on one
	// RRset by VerifyRRset: a zone could otherwise attach hundreds of
	// RRSIGs that all fail, each costing a public-key operation
	// (KeyTrap, CVE-2023-50387; LIMITS.md: 8 per RRset).
	MaxVerifyPerRRset = 8

	// MaxKeysPerTag bounds the DNSKEYs with the same algorithm and key
	// tag that VerifyRRset tries for one signature: colliding key tags
	// multiply the work of every signature (KeyTrap, CVE-2023-50387;
	// LIMITS.md: at most 2 colliding DNSKEYs per algorithm and tag).
	MaxKeysPerTag = 2

	// maxGenerateTries bounds the draws Generate makes for an ECDSA
	// scalar: a draw is rejected only when it is zero or not below the
	// group order, which happens with probability under 2^-32 each.
	maxGenerateTries = 64
)
