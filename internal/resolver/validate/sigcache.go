package validate

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
)

// maxVerifiedSigs bounds the signatures verifiedSigs remembers: a few
// hundred kilobytes. When it is full the memory starts again empty; a
// forgotten signature only costs one more verification.
const maxVerifiedSigs = 8192

// verifiedSigs remembers which signatures verified, so that an RRset met
// again in a later answer is not verified again: every name under one
// wildcard comes with the same NSEC record and its signature, and each
// verification is a public-key operation (about as costly as the rest of
// the cache miss together). Unbound keeps the same knowledge as the
// security status of its cached RRsets. It is the dnssec.Memory of the
// validator's verifications: the key is dnssec's digest of the signed
// data (the RRSIG's fields and the RRset in canonical form, so every
// name a wildcard answers shares one: the signed data holds the
// wildcard, RFC 4034 §3.1.8.1), the signature and the keys' material,
// which dnssec builds for the verification anyway. The checks outside
// the cryptography (the RRSIG matches the RRset and its TTLs, the
// validity period, the keys' flags) are made again on every use. Safe
// for concurrent use; the zero value is ready.
type verifiedSigs struct {
	mu       sync.Mutex
	m        map[[sha256.Size]byte]struct{} // guarded by mu
	computed int                            // guarded by mu; verifications made, for tests
}

// verifySig verifies one signature, through the validator's memory of
// verified signatures when the state has a validator.
func (st *state) verifySig(rrs []dns.RR, sig *dns.RRSIG, keys []*dnssec.PublicKey, now time.Time) error {
	if st.v == nil {
		return dnssec.VerifySignature(rrs, sig, keys, now, nil)
	}
	return st.v.sigs.verify(rrs, sig, keys, now)
}

// verify is dnssec.VerifySignature, answered from memory when the same
// signature over the same signed data verified with the same keys
// before.
func (c *verifiedSigs) verify(rrs []dns.RR, sig *dns.RRSIG, keys []*dnssec.PublicKey, now time.Time) error {
	return dnssec.VerifySignature(rrs, sig, keys, now, c)
}

// Verified reports whether the signature of digest d verified before;
// when not, the caller verifies it now, which is counted.
func (c *verifiedSigs) Verified(d [sha256.Size]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.m[d]
	if !ok {
		c.computed++
	}
	return ok
}

// Remember records that the signature of digest d verified.
func (c *verifiedSigs) Remember(d [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxVerifiedSigs {
		c.m = make(map[[sha256.Size]byte]struct{})
	}
	c.m[d] = struct{}{}
}
