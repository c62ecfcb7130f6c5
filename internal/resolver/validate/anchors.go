package validate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// Anchors are trust anchors: DS or DNSKEY records of zones whose keys are
// trusted without proof (RFC 4033 §2). A validator starts every chain of
// trust at the closest anchor above the name. The zero value holds none.
type Anchors struct {
	// DS and Keys are the anchors by canonical zone name.
	DS   map[string][]*dns.DS
	Keys map[string][]*dns.DNSKEY
}

// ErrNoAnchors is returned by ParseAnchors for input without a DS or
// DNSKEY record.
var ErrNoAnchors = errors.New("validate: no DS or DNSKEY record in trust anchor file")

// ianaRootAnchors are the root zone's key-signing keys as IANA publishes
// them (https://data.iana.org/root-anchors/root-anchors.xml): KSK-2017
// (tag 20326) and KSK-2024 (tag 38696), as DS records with SHA-256
// digests, the form Debian's /usr/share/dns/root.ds also uses.
const ianaRootAnchors = `
. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
. IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16
`

// IANARootAnchors returns the built-in trust anchors: the IANA root KSKs
// KSK-2017 and KSK-2024.
func IANARootAnchors() *Anchors {
	a, err := ParseAnchors(strings.NewReader(ianaRootAnchors), "built-in root anchors")
	if err != nil {
		panic(err) // the constant above is checked by TestIANARootAnchors
	}
	return a
}

// ParseAnchors reads trust anchors in zone file form: DS and DNSKEY
// records, one a line, with comments. That is the form of Unbound's
// trust-anchor-file, Debian's /usr/share/dns/root.key and root.ds, and the
// signed testbed's TrustAnchor. Other record types are errors; file names
// the input in messages.
func ParseAnchors(r io.Reader, file string) (*Anchors, error) {
	a := &Anchors{DS: map[string][]*dns.DS{}, Keys: map[string][]*dns.DNSKEY{}}
	zp := dns.NewZoneParser(r, ".", file)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := dnsname.Canonical(rr.Header().Name)
		switch rr := rr.(type) {
		case *dns.DS:
			a.DS[name] = append(a.DS[name], rr)
		case *dns.DNSKEY:
			a.Keys[name] = append(a.Keys[name], rr)
		default:
			return nil, fmt.Errorf("validate: %s: %s record %s is not a trust anchor (DS or DNSKEY)", file, dns.TypeToString[rr.Header().Rrtype], rr.Header().Name)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	if len(a.DS) == 0 && len(a.Keys) == 0 {
		return nil, fmt.Errorf("%w %s", ErrNoAnchors, file)
	}
	return a, nil
}

// ReadAnchors reads the trust anchor file at path with ParseAnchors.
func ReadAnchors(path string) (*Anchors, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	defer f.Close()
	return ParseAnchors(f, path)
}

// closest returns the closest anchored zone at or above name, and false
// when no anchor covers name.
func (a *Anchors) closest(name string) (string, bool) {
	for n := dnsname.Canonical(name); ; n = dnsname.Parent(n) {
		if len(a.DS[n]) > 0 || len(a.Keys[n]) > 0 {
			return n, true
		}
		if n == "." {
			return "", false
		}
	}
}
