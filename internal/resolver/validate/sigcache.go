package validate

import (
	"crypto/sha256"
	"io"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/dnssec"
)

// maxVerifiedSigs bounds the signatures verifiedSigs remembers: a few
// hundred kilobytes. When it is full the memory starts again empty; a
// forgotten signature only costs one more verification.
const maxVerifiedSigs = 8192

// verifiedSigs remembers which (RRset, RRSIG, DNSKEY) triples verified, so
// that an RRset met again in a later answer is not verified again: every
// name under one wildcard comes with the same NSEC record and its
// signature, and each verification is a public-key operation (about as
// costly as the rest of the cache miss together). Unbound keeps the same
// knowledge as the security status of its cached RRsets. The key is a
// SHA-256 digest of the three, TTLs included, so anything
// that changes what dnssec.VerifyRRset looks at is a different key; the
// signature's validity period is checked again on every use. Safe for
// concurrent use; the zero value is ready.
type verifiedSigs struct {
	mu       sync.Mutex
	m        map[[sha256.Size]byte]struct{} // guarded by mu
	computed int                            // guarded by mu; verifications made, for tests
}

// verifySig verifies one signature, through the validator's memory of
// verified signatures when the state has a validator.
func (st *state) verifySig(rrs []dns.RR, sig *dns.RRSIG, keys []*dns.DNSKEY, now time.Time) error {
	if st.v == nil {
		return dnssec.VerifyRRset(rrs, []*dns.RRSIG{sig}, keys, now)
	}
	return st.v.sigs.verify(rrs, sig, keys, now)
}

// verify is dnssec.VerifyRRset for one signature, answered from memory
// when the same signature over the same RRset verified with the same keys
// before.
func (c *verifiedSigs) verify(rrs []dns.RR, sig *dns.RRSIG, keys []*dns.DNSKEY, now time.Time) error {
	k := sigKey(rrs, sig, keys)
	if sig.ValidityPeriod(now) && c.has(k) {
		return nil
	}
	c.mu.Lock()
	c.computed++
	c.mu.Unlock()
	err := dnssec.VerifyRRset(rrs, []*dns.RRSIG{sig}, keys, now)
	if err == nil {
		c.add(k)
	}
	return err
}

func (c *verifiedSigs) has(k [sha256.Size]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.m[k]
	return ok
}

func (c *verifiedSigs) add(k [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxVerifiedSigs {
		c.m = make(map[[sha256.Size]byte]struct{})
	}
	c.m[k] = struct{}{}
}

// sigKey digests rrs, sig and keys in presentation form (which reads the
// records only: packing would write their RDLENGTH, and the keys are
// shared between queries), each record ended by a newline. An RRset
// expanded from a wildcard (the RRSIG has fewer labels than the owner,
// RFC 4035 §5.3.2) is digested under the wildcard's name, owner of the
// RRSIG and the records alike: what a signature over it proves (the
// signed data, RFC 4034 §3.1.8.1) is the same for every name the
// wildcard answers, so every name under *.wild.example.test. shares one
// verification. Whether the expansion was allowed is the denial proof's
// business, checked on each answer.
func sigKey(rrs []dns.RR, sig *dns.RRSIG, keys []*dns.DNSKEY) [sha256.Size]byte {
	h := sha256.New()
	wild := wildcardOwner(rrs, sig)
	add := func(rr dns.RR) {
		if wild != "" {
			rr = dns.Copy(rr)
			rr.Header().Name = wild
		}
		io.WriteString(h, rr.String())
		h.Write([]byte{'\n'})
	}
	add(sig)
	for _, rr := range rrs {
		add(rr)
	}
	h.Write([]byte{'\n'}) // the keys follow
	for _, k := range keys {
		io.WriteString(h, k.String())
		h.Write([]byte{'\n'})
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// wildcardOwner returns the wildcard ("*." and the owner's last
// sig.Labels labels, lower case) that rrs were expanded from, when sig
// says so and sig and every record have the same owner; "" otherwise.
func wildcardOwner(rrs []dns.RR, sig *dns.RRSIG) string {
	owner := dnsname.Canonical(sig.Hdr.Name)
	n := dns.CountLabel(owner)
	if int(sig.Labels) >= n {
		return ""
	}
	for _, rr := range rrs {
		if dnsname.Canonical(rr.Header().Name) != owner {
			return ""
		}
	}
	if sig.Labels == 0 {
		return "*." // expanded from the root's wildcard
	}
	idx := dns.Split(owner)
	return "*." + owner[idx[n-int(sig.Labels)]:]
}
