package validate

import (
	"fmt"
	"strconv"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
)

// Step is one check of the chain of trust, in the order made: the rows
// of the study guide's table, from the trust anchor to the answer.
// Steps are recorded when a validation proves something itself; what a
// validator had already proven (its caches) is not repeated, so a fresh
// Validator shows the whole chain.
type Step struct {
	// Zone is the zone whose key or records the step uses.
	Zone string `json:"zone"`
	// Key is the key or hash used, such as "DS 12345 SHA-256" or
	// "DNSKEY 12345 (KSK, ECDSAP256SHA256)".
	Key string `json:"key"`
	// Verifies is what is checked, such as "DNSKEY RRset of test.".
	Verifies string `json:"verifies"`
	// Proves is what the check proves when it holds.
	Proves string `json:"proves"`
	// Err is why the step failed; "" when it held.
	Err string `json:"error,omitempty"`
	// Security is the step's outcome: Secure when it held, else the
	// failure's Insecure or Bogus.
	Security Security `json:"-"`
}

// step records one check; f is its failure, nil when it held.
func (st *state) step(zone, key, verifies, proves string, f *failure) {
	s := Step{Zone: zone, Key: key, Verifies: verifies, Proves: proves, Security: Secure}
	if f != nil {
		s.Err, s.Security = f.text, f.sec
	}
	st.steps = append(st.steps, s)
}

// keyName describes the key that made sig, found among keys.
func keyName(sig *dns.RRSIG, keys []*dnssec.PublicKey) string {
	if sig == nil {
		return "-"
	}
	role := "ZSK"
	for _, k := range keys {
		if k.Tag == sig.KeyTag && k.DNSKEY.Algorithm == sig.Algorithm && k.DNSKEY.Flags&dns.SEP != 0 {
			role = "KSK"
		}
	}
	return "DNSKEY " + strconv.Itoa(int(sig.KeyTag)) + " (" + role + ", " + dns.AlgorithmToString[sig.Algorithm] + ")"
}

// dsName describes a DS record.
func dsName(ds *dns.DS) string {
	return fmt.Sprintf("DS %d %s", ds.KeyTag, dns.HashToString[ds.DigestType])
}

// MarshalText names the security status in JSON and text output.
func (s Security) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// denialName describes the denial records of p.
func denialName(p *proof) string {
	switch {
	case p == nil:
		return "-"
	case p.nsec3 != nil:
		return fmt.Sprintf("%d NSEC3 (%d iterations)", len(p.nsec3.recs), p.nsec3.iter)
	}
	return fmt.Sprintf("%d NSEC", len(p.nsec))
}
