package dnssec

import (
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cloudflare/circl/sign/ed448"
	"github.com/miekg/dns"
)

// Ed448 (algorithm 16, RFC 8080) is missing from the standard library and
// from miekg/dns; circl provides the curve. The signed data is still made
// by miekg/dns: signedData has it sign a copy of the RRSIG as Ed25519 (the
// other algorithm that signs the data itself, not a digest), captures the
// message, and puts the algorithm number back. rensa verifies Ed448; it
// does not sign with it.

// errCaptured stops miekg/dns once the signed data is captured.
var errCaptured = errors.New("dnssec: signed data captured")

// capture is a crypto.Signer that records what it is asked to sign.
type capture struct{ msg []byte }

// Public returns a placeholder Ed25519 key.
func (c *capture) Public() crypto.PublicKey { return make(ed25519.PublicKey, ed25519.PublicKeySize) }

// Sign records message and stops the signing.
func (c *capture) Sign(_ io.Reader, message []byte, _ crypto.SignerOpts) ([]byte, error) {
	c.msg = append([]byte(nil), message...)
	return nil, errCaptured
}

// signedData returns the data an RRSIG signs (RFC 4034 §3.1.8.1): its
// RDATA without the signature, then the RRset in canonical form with the
// RRSIG's original TTL, wildcard owners restored from its labels field.
func signedData(sig *dns.RRSIG, rrset []dns.RR) ([]byte, error) {
	s := *sig
	s.Algorithm = dns.ED25519
	s.Signature = ""
	set := rrset
	if labels := dns.SplitDomainName(rrset[0].Header().Name); len(labels) > int(sig.Labels) {
		// A wildcard expansion: sign the wildcard owner, so that
		// miekg/dns derives the RRSIG's labels field from it.
		owner := "*." + strings.Join(labels[len(labels)-int(sig.Labels):], ".") + "."
		set = make([]dns.RR, len(rrset))
		for i, rr := range rrset {
			set[i] = dns.Copy(rr)
			set[i].Header().Name = owner
		}
	}
	c := &capture{}
	err := s.Sign(c, set)
	if !errors.Is(err, errCaptured) {
		return nil, fmt.Errorf("dnssec: building the signed data: %v", err)
	}
	if len(c.msg) < 3 || s.Labels != sig.Labels || s.OrigTtl != sig.OrigTtl {
		return nil, fmt.Errorf("%w: cannot rebuild the signed data", ErrSignatureMismatch)
	}
	c.msg[2] = sig.Algorithm // the algorithm octet of the RRSIG RDATA
	return c.msg, nil
}

// verifyEd448 checks an Ed448 RRSIG over rrset with key.
func verifyEd448(sig *dns.RRSIG, key *dns.DNSKEY, rrset []dns.RR) error {
	pub, err := base64.StdEncoding.DecodeString(key.PublicKey)
	if err != nil || len(pub) != ed448.PublicKeySize {
		return fmt.Errorf("%w: malformed ED448 public key", ErrBadKey)
	}
	raw, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", ErrBadSignature)
	}
	msg, err := signedData(sig, rrset)
	if err != nil {
		return err
	}
	if !ed448.Verify(ed448.PublicKey(pub), msg, raw, "") {
		return ErrBadSignature
	}
	return nil
}
