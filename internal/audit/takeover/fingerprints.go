package takeover

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// embeddedFingerprints is can-i-take-over-xyz's fingerprints.json
// (CC BY 4.0, see data/README.md and data/LICENSE.can-i-take-over-xyz).
//
//go:embed data/can-i-take-over-xyz.fingerprints.json
var embeddedFingerprints []byte

// Attribution credits the embedded fingerprint data, as its licence
// requires; the CLI prints it with the usage.
const Attribution = "Service fingerprints: can-i-take-over-xyz by EdOverflow and contributors, " +
	"https://github.com/EdOverflow/can-i-take-over-xyz, licensed CC BY 4.0."

// Fingerprint is one service of can-i-take-over-xyz's fingerprints.json:
// the CNAME suffixes that identify it, and what its "nothing here" answer
// looks like: NXDOMAIN, an HTTP status ("HTTP_STATUS=404") or text in the
// page (a regular expression in the file's dialect).
type Fingerprint struct {
	Service     string   `json:"service"`
	CNAME       []string `json:"cname"`
	Fingerprint string   `json:"fingerprint"`
	NXDomain    bool     `json:"nxdomain"`
	HTTPStatus  *int     `json:"http_status"`
	// Status is "Vulnerable", "Not vulnerable" or "Edge case".
	Status     string `json:"status"`
	Vulnerable bool   `json:"vulnerable"`
	Discussion string `json:"discussion"`

	suffixes []string       // canonical CNAME suffixes (names only)
	status   int            // HTTP status to match, 0 for none
	text     *regexp.Regexp // page text to match, nil for none
}

// DefaultFingerprints returns the embedded fingerprints.
func DefaultFingerprints() ([]Fingerprint, error) {
	return ParseFingerprints(embeddedFingerprints)
}

// ParseFingerprints reads a fingerprints.json file: a JSON array of
// services as can-i-take-over-xyz publishes it. Unknown fields are
// ignored (the project adds some over time); CNAME entries that are not
// domain names (addresses, URLs) are ignored for matching.
func ParseFingerprints(b []byte) ([]Fingerprint, error) {
	if len(b) > MaxFingerprintsFile {
		return nil, fmt.Errorf("takeover: fingerprints file is %d bytes, more than %d", len(b), MaxFingerprintsFile)
	}
	var fps []Fingerprint
	if err := json.Unmarshal(b, &fps); err != nil {
		return nil, fmt.Errorf("takeover: fingerprints: %w", err)
	}
	for i := range fps {
		if err := fps[i].compile(); err != nil {
			return nil, fmt.Errorf("takeover: fingerprint %d (%s): %w", i, fps[i].Service, err)
		}
	}
	return fps, nil
}

// compile prepares a fingerprint for matching.
func (f *Fingerprint) compile() error {
	if f.Service == "" {
		return fmt.Errorf("no service name")
	}
	for _, c := range f.CNAME {
		c = strings.TrimSpace(c)
		if _, err := netip.ParseAddr(c); err == nil || strings.Contains(c, "/") || c == "" {
			continue
		}
		if _, ok := dns.IsDomainName(c); ok {
			f.suffixes = append(f.suffixes, dns.CanonicalName(c))
		}
	}
	fp := strings.TrimSpace(f.Fingerprint)
	switch {
	case fp == "" || fp == "NXDOMAIN":
	case strings.HasPrefix(fp, "HTTP_STATUS="):
		n, err := strconv.Atoi(strings.TrimPrefix(fp, "HTTP_STATUS="))
		if err != nil {
			return fmt.Errorf("bad HTTP status %q", fp)
		}
		f.status = n
	default:
		// The file is Markdown-derived: "|" in a pattern is written
		// "&#124;". A text that is not a valid pattern is matched
		// literally.
		expr := strings.ReplaceAll(fp, "&#124;", "|")
		re, err := regexp.Compile("(?i)" + expr)
		if err != nil {
			re = regexp.MustCompile("(?i)" + regexp.QuoteMeta(expr))
		}
		f.text = re
	}
	if f.HTTPStatus != nil && f.status == 0 && f.text == nil {
		f.status = *f.HTTPStatus
	}
	return nil
}

// MatchesName reports whether name (a CNAME target) belongs to the
// service: it is one of its CNAME suffixes or below one.
func (f *Fingerprint) MatchesName(name string) bool {
	name = dns.CanonicalName(name)
	for _, s := range f.suffixes {
		if dns.IsSubDomain(s, name) {
			return true
		}
	}
	return false
}

// HasPage reports whether the service is recognised by its web page
// (text or HTTP status) rather than by NXDOMAIN.
func (f *Fingerprint) HasPage() bool { return f.text != nil || f.status != 0 }

// MatchesPage reports whether an HTTP response with status and body is
// the service's "nothing here" page.
func (f *Fingerprint) MatchesPage(status int, body []byte) bool {
	switch {
	case f.text != nil:
		return f.text.Match(body)
	case f.status != 0:
		return status == f.status
	}
	return false
}

// lookupService returns the first fingerprint whose CNAME suffixes match
// one of names, or nil.
func lookupService(fps []Fingerprint, names ...string) *Fingerprint {
	for _, n := range names {
		for i := range fps {
			if fps[i].MatchesName(n) {
				return &fps[i]
			}
		}
	}
	return nil
}
