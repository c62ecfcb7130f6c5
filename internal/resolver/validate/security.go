package validate

import (
	"fmt"

	"github.com/miekg/dns"
)

// Security is the outcome of validating an answer (RFC 4033 §5, RFC 4035
// §4.3). The zero value is Indeterminate.
type Security uint8

const (
	// Indeterminate means no trust anchor covers the name: there is
	// nothing to validate against.
	Indeterminate Security = iota
	// Secure means every RRset of the answer, and every denial, is proven
	// by a chain of signatures from a trust anchor.
	Secure
	// Insecure means a signed parent proves that the name's zone is not
	// signed (no DS at the delegation, opt-out, or only algorithms or
	// digests the validator does not implement).
	Insecure
	// Bogus means the answer should be signed and is not provably right:
	// a signature is missing, expired or wrong, a key or proof is missing,
	// or the work bounds ran out. The resolver answers SERVFAIL.
	Bogus
)

var securityNames = [...]string{"indeterminate", "secure", "insecure", "bogus"}

// String returns the name of s, such as "secure".
func (s Security) String() string {
	if int(s) < len(securityNames) {
		return securityNames[s]
	}
	return fmt.Sprintf("security(%d)", uint8(s))
}

// Verdict is the result of validating one question.
type Verdict struct {
	// Security is the answer's security status.
	Security Security
	// EDE says why the answer is Bogus, or Insecure for a reason a
	// client may want to know (RFC 8914: 1, 2, 27); nil otherwise.
	EDE *dns.EDNS0_EDE
	// Rcode, Answer and Authority are the validated answer when Secure:
	// the CNAME/DNAME chain and the final RRset, each followed by its
	// RRSIGs, and the SOA, NSEC and NSEC3 RRsets (with RRSIGs) proving a
	// negative answer. A resolver strips the DNSSEC records for clients
	// that did not set DO. When Insecure, they are the records as far as
	// the validation followed them, with the RRSIGs they came with
	// (proven or not), for a resolver to add to what it serves a DO
	// client; nil when the validation did not reach them.
	Rcode     int
	Answer    []dns.RR
	Authority []dns.RR
	// Work is what the validation spent.
	Work Work
	// Steps are the checks made, from the trust anchor to the answer
	// (see Step).
	Steps []Step
}

// Work counts what one validation spent, against the limits of limits.go.
type Work struct {
	// Verifications counts signature verifications (public-key
	// operations), at most maxVerifyPerQuery.
	Verifications int
	// Hashes counts NSEC3 hashes, at most maxHashesPerQuery.
	Hashes int
	// Fetches counts the DNSKEY, DS and answer fetches, at most maxFetches.
	Fetches int
}

// failure is a reason an answer is not Secure: the security it leads to
// and the Extended DNS Error naming it.
type failure struct {
	sec  Security
	code uint16
	text string
}

func (f *failure) Error() string { return f.text }

// bogus returns a Bogus failure with EDE code.
func bogus(code uint16, format string, args ...any) *failure {
	return &failure{sec: Bogus, code: code, text: fmt.Sprintf(format, args...)}
}

// insecure returns an Insecure failure; code 0 means no EDE.
func insecure(code uint16, format string, args ...any) *failure {
	return &failure{sec: Insecure, code: code, text: fmt.Sprintf(format, args...)}
}

// ede returns the Extended DNS Error of f, nil when it has none.
func (f *failure) ede() *dns.EDNS0_EDE {
	if f == nil || (f.sec == Insecure && f.code == 0) {
		return nil
	}
	return &dns.EDNS0_EDE{InfoCode: f.code, ExtraText: f.text}
}
