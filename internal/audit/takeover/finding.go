package takeover

import (
	"fmt"
	"strings"
)

// Severity grades a finding, from Info to Critical.
type Severity int

// Severities, in increasing order.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

// String returns the severity's name, such as "high".
func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// MarshalText encodes s by name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// ParseSeverity parses a severity name ("info" ... "critical").
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(n, name) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("takeover: unknown severity %q (want info, low, medium, high or critical)", name)
}

// Confidence says how sure a finding is: High when the evidence is
// direct (NXDOMAIN at a known-vulnerable service, an unregistered
// domain, a matching "no such app" page), Low when other causes are
// likely (a lame server may be down for a moment).
type Confidence string

// Confidence levels.
const (
	ConfidenceLow    Confidence = "low"
	ConfidenceMedium Confidence = "medium"
	ConfidenceHigh   Confidence = "high"
)

// Reason classifies why a record is dangling.
type Reason string

// The reasons a record is dangling.
const (
	// ReasonNXDomain: the final target does not exist.
	ReasonNXDomain Reason = "nxdomain"
	// ReasonUnregistered: the target's registrable domain does not
	// exist, so anyone can register it and answer for the target.
	ReasonUnregistered Reason = "unregistered-domain"
	// ReasonLame: the target's zone's servers answer REFUSED or
	// SERVFAIL (a lame delegation), so whoever gets that zone at the
	// provider answers for the target.
	ReasonLame Reason = "lame"
	// ReasonHTTP: the target resolves, but the service's web page says
	// nothing is configured there ("no such app").
	ReasonHTTP Reason = "http-fingerprint"
)

// Reasons lists every reason, for reports and SARIF rules.
func Reasons() []Reason {
	return []Reason{ReasonNXDomain, ReasonUnregistered, ReasonLame, ReasonHTTP}
}

// Description explains the reason in one sentence.
func (r Reason) Description() string {
	switch r {
	case ReasonNXDomain:
		return "The record points at a name that does not exist: whoever creates it (at the provider) controls what the record's name serves."
	case ReasonUnregistered:
		return "The record points into a domain that is not registered: anyone can register it and answer for the record's name."
	case ReasonLame:
		return "The target's zone is delegated to servers that refuse or fail to answer for it: whoever claims the zone at that DNS provider answers for the record's name."
	case ReasonHTTP:
		return "The target's web page is the service's 'nothing here' page: the resource was released and can be claimed by someone else."
	}
	return string(r)
}

// Finding is one dangling record.
type Finding struct {
	// Record is the record in presentation format.
	Record string `json:"record"`
	Owner  string `json:"owner"`
	Type   string `json:"type"`
	// Target is the final target, after any CNAME chain (Chain).
	Target string   `json:"target"`
	Chain  []string `json:"chain,omitempty"`
	Reason Reason   `json:"reason"`
	// Detail says what was observed, such as the RCODE or the page text.
	Detail     string     `json:"detail"`
	Service    string     `json:"service,omitempty"`
	Severity   Severity   `json:"severity"`
	Confidence Confidence `json:"confidence"`
	// File and Line locate the record in a zone file, when it came from
	// one.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// String formats f on one line.
func (f Finding) String() string {
	var b strings.Builder
	if f.File != "" {
		fmt.Fprintf(&b, "%s:%d: ", f.File, f.Line)
	}
	fmt.Fprintf(&b, "%s: %s: %s -> %s: %s", f.Severity, f.Reason, f.Record, f.Target, f.Detail)
	if f.Service != "" {
		fmt.Fprintf(&b, " [service %s]", f.Service)
	}
	fmt.Fprintf(&b, " (confidence %s)", f.Confidence)
	return b.String()
}
