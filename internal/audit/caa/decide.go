package caa

import (
	"fmt"
	"slices"
	"strings"
)

// Request is what a CA asks CAA about: may Issuer issue a certificate for
// Name? A Name starting with "*." asks for a wildcard certificate.
type Request struct {
	// Name is the domain name of the certificate request, such as
	// "www.example.test" or "*.example.test".
	Name string
	// Issuer is the CA's issuer domain name, as CAA records name it
	// (RFC 8659 section 4.2), such as "letsencrypt.org".
	Issuer string
	// AccountURI is the ACME account asking, matched against the
	// accounturi parameter (RFC 8657 section 3). Default: none, so a
	// property with accounturi does not authorise the request.
	AccountURI string
	// Method is the ACME validation method used, such as "http-01",
	// matched against validationmethods (RFC 8657 section 4). Default:
	// none, so a property with validationmethods does not authorise the
	// request.
	Method string
}

// Wildcard reports whether r asks for a wildcard certificate.
func (r Request) Wildcard() bool { return strings.HasPrefix(r.Name, "*.") }

// Decision is the verdict on one relevant RRset.
type Decision struct {
	// Allowed reports whether the RRset lets the request's CA issue.
	Allowed bool `json:"allowed"`
	// Reason says why, in one sentence.
	Reason string `json:"reason"`
	// Property is the property that authorised the request, or the
	// unknown critical one that forbade it; nil otherwise.
	Property *Property `json:"property,omitempty"`
	// Iodef lists the RRset's iodef URLs (RFC 8659 section 4.4), where
	// a CA reports requests it refused.
	Iodef []string `json:"iodef,omitempty"`
	// IssueMail lists the RRset's issuemail properties (RFC 9495),
	// parsed; they govern S/MIME certificates, not this decision.
	IssueMail []IssueValue `json:"issuemail,omitempty"`
}

// Decide judges a relevant RRset for req, as RFC 8659 sections 4.1-4.3
// and RFC 8657 say:
//
//  1. a property with the critical flag and a tag the checker does not
//     know forbids issuance;
//  2. a wildcard request is governed by the issuewild properties when
//     there are any, every other request by the issue properties; when
//     the governing set is empty, CAA does not restrict issuance;
//  3. otherwise issuance is allowed only if one governing property names
//     req.Issuer, parses, and its accounturi and validationmethods
//     parameters (if present) admit req.AccountURI and req.Method.
//
// An empty RRset allows issuance.
func Decide(rrset []Property, req Request) Decision {
	d := Decision{}
	for _, p := range rrset {
		switch {
		case p.Is(TagIodef):
			d.Iodef = append(d.Iodef, p.Value)
		case p.Is(TagIssueMail):
			if v, err := ParseIssueValue(p.Value); err == nil {
				d.IssueMail = append(d.IssueMail, v)
			}
		}
	}
	for _, p := range rrset {
		if p.Critical() && !p.Known() {
			d.Property = &p
			d.Reason = fmt.Sprintf("unknown critical property %q (flag %d): no CA may issue unless it implements it (RFC 8659 section 4.1)", p.Tag, p.Flag)
			return d
		}
	}
	tag := TagIssue
	if req.Wildcard() && slices.ContainsFunc(rrset, func(p Property) bool { return p.Is(TagIssueWild) }) {
		tag = TagIssueWild
	}
	var governing []Property
	for _, p := range rrset {
		if p.Is(tag) {
			governing = append(governing, p)
		}
	}
	if len(governing) == 0 {
		d.Allowed = true
		d.Reason = fmt.Sprintf("no %s property: CAA does not restrict issuance", tag)
		return d
	}
	var why []string
	for _, p := range governing {
		ok, reason := authorises(p, req)
		if ok {
			d.Allowed, d.Property = true, &p
			d.Reason = fmt.Sprintf("%s property %q authorises %s", tag, p.Value, req.Issuer)
			return d
		}
		why = append(why, reason)
	}
	d.Reason = fmt.Sprintf("no %s property authorises %s: %s", tag, req.Issuer, strings.Join(why, "; "))
	return d
}

// authorises reports whether one issue or issuewild property lets
// req's CA issue, and if not, why.
func authorises(p Property, req Request) (bool, string) {
	v, err := ParseIssueValue(p.Value)
	switch {
	case err != nil:
		return false, fmt.Sprintf("%q is malformed and authorises no CA", p.Value)
	case v.Domain == "":
		return false, fmt.Sprintf("%q authorises no CA", p.Value)
	case !sameDomain(v.Domain, req.Issuer):
		return false, fmt.Sprintf("%q names another CA", p.Value)
	}
	if uris := v.Param("accounturi"); len(uris) > 0 {
		switch {
		case len(uris) > 1:
			return false, fmt.Sprintf("%q has more than one accounturi (RFC 8657 section 3)", p.Value)
		case req.AccountURI == "":
			return false, fmt.Sprintf("%q is bound to account %s and the request names none", p.Value, uris[0])
		case uris[0] != req.AccountURI:
			return false, fmt.Sprintf("%q is bound to account %s", p.Value, uris[0])
		}
	}
	if ms := v.Param("validationmethods"); len(ms) > 0 {
		switch {
		case len(ms) > 1:
			return false, fmt.Sprintf("%q has more than one validationmethods (RFC 8657 section 4)", p.Value)
		case req.Method == "":
			return false, fmt.Sprintf("%q limits validation methods to %s and the request names none", p.Value, ms[0])
		case !slices.Contains(strings.Split(ms[0], ","), req.Method):
			return false, fmt.Sprintf("%q limits validation methods to %s", p.Value, ms[0])
		}
	}
	return true, ""
}

// sameDomain compares issuer domain names without regard to case or a
// trailing dot.
func sameDomain(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}
