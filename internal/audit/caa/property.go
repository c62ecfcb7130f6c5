package caa

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Property tags rensa's checker understands (RFC 8659 section 4.2-4.4,
// RFC 9495 issuemail, and the CA/Browser Forum's issuevmc, contactemail
// and contactphone). A property with the critical flag and any other tag
// forbids issuance.
const (
	TagIssue        = "issue"
	TagIssueWild    = "issuewild"
	TagIodef        = "iodef"
	TagIssueMail    = "issuemail"
	TagIssueVMC     = "issuevmc"
	TagContactEmail = "contactemail"
	TagContactPhone = "contactphone"
)

// FlagCritical is the issuer critical flag, bit 0 of the flags octet
// (value 128, RFC 8659 section 4.1). The other seven bits are reserved
// and must be ignored.
const FlagCritical = 0x80

// Property is one CAA record's data: flags, tag and value.
type Property struct {
	Flag  uint8  `json:"flag"`
	Tag   string `json:"tag"`
	Value string `json:"value"`
}

// FromRR returns the property of a CAA record.
func FromRR(rr *dns.CAA) Property {
	return Property{Flag: rr.Flag, Tag: rr.Tag, Value: rr.Value}
}

// String formats p as in a zone file: `0 issue "ca.example.net"`.
func (p Property) String() string {
	return fmt.Sprintf("%d %s %q", p.Flag, p.Tag, p.Value)
}

// Critical reports whether p has the issuer critical flag (value 128).
// Reserved bits, such as value 1, do not make a property critical
// (RFC 8659 section 4.1; Let's Encrypt's boulder treats bit 7 as critical
// too, which the RFC does not).
func (p Property) Critical() bool { return p.Flag&FlagCritical != 0 }

// Known reports whether p's tag is one the checker understands. Tags
// match without regard to case (RFC 8659 section 4.1).
func (p Property) Known() bool {
	switch strings.ToLower(p.Tag) {
	case TagIssue, TagIssueWild, TagIodef, TagIssueMail, TagIssueVMC, TagContactEmail, TagContactPhone:
		return true
	}
	return false
}

// Is reports whether p's tag is tag, ignoring case.
func (p Property) Is(tag string) bool { return strings.EqualFold(p.Tag, tag) }

// Parameter is one "tag=value" parameter of an issue value.
type Parameter struct {
	Tag   string `json:"tag"`
	Value string `json:"value"`
}

// IssueValue is a parsed issue, issuewild or issuemail value
// (RFC 8659 section 4.2): the issuer's domain, empty when the property
// authorises no CA (";"), and its parameters in order.
type IssueValue struct {
	Domain     string      `json:"domain"`
	Parameters []Parameter `json:"parameters,omitempty"`
}

// Param returns the values of every parameter named tag (parameter tags
// match without regard to case).
func (v IssueValue) Param(tag string) []string {
	var out []string
	for _, p := range v.Parameters {
		if strings.EqualFold(p.Tag, tag) {
			out = append(out, p.Value)
		}
	}
	return out
}

// ErrMalformed is wrapped by every error of ParseIssueValue. A property
// whose value is malformed authorises no CA (RFC 8659 section 4.2).
var ErrMalformed = errors.New("caa: malformed issue value")

// ParseIssueValue parses an issue, issuewild or issuemail value by the
// grammar of RFC 8659 section 4.2:
//
//	issue-value = *WSP [issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
//	parameter   = tag *WSP "=" *WSP value
//	tag         = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))
//	value       = *(%x21-3A / %x3C-7E)
//
// A trailing ";" after the parameters is tolerated.
func ParseIssueValue(s string) (IssueValue, error) {
	domain, params, hasParams := strings.Cut(s, ";")
	domain = strings.Trim(domain, " \t")
	var v IssueValue
	if domain != "" {
		if !isLDH(domain, true) {
			return IssueValue{}, fmt.Errorf("%w: issuer domain name %q is not a domain name", ErrMalformed, domain)
		}
		v.Domain = domain
	}
	if !hasParams {
		return v, nil
	}
	parts := strings.Split(params, ";")
	for i, part := range parts {
		part = strings.Trim(part, " \t")
		if part == "" {
			if i == len(parts)-1 {
				break // "ca.example;" or a trailing ";" after parameters
			}
			return IssueValue{}, fmt.Errorf("%w: empty parameter", ErrMalformed)
		}
		tag, val, ok := strings.Cut(part, "=")
		if !ok {
			return IssueValue{}, fmt.Errorf("%w: parameter not formatted as tag=value: %q", ErrMalformed, part)
		}
		tag = strings.TrimRight(tag, " \t")
		val = strings.TrimLeft(val, " \t")
		if !isLDH(tag, false) {
			return IssueValue{}, fmt.Errorf("%w: parameter tag contains disallowed character: %q", ErrMalformed, tag)
		}
		for _, c := range []byte(val) {
			if c < 0x21 || c > 0x7E || c == ';' {
				return IssueValue{}, fmt.Errorf("%w: parameter value contains disallowed character: %q", ErrMalformed, val)
			}
		}
		v.Parameters = append(v.Parameters, Parameter{Tag: tag, Value: val})
	}
	return v, nil
}

// isLDH reports whether s is one label, or with dots a sequence of
// labels, of the form (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)).
func isLDH(s string, dots bool) bool {
	labels := []string{s}
	if dots {
		labels = strings.Split(s, ".")
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !isAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ValidTag reports whether tag is a syntactically valid property tag:
// 1 to 15 ASCII letters and digits (RFC 8659 section 4.1).
func ValidTag(tag string) bool {
	if len(tag) == 0 || len(tag) > 15 {
		return false
	}
	for _, c := range []byte(tag) {
		if !isAlnum(c) {
			return false
		}
	}
	return true
}
