package caa_test

import (
	"strings"
	"testing"

	"github.com/rensa-dns/rensa/internal/audit/caa"
)

// TestCAADecide covers Decide's rules on parsed RRsets beyond the
// conformance tables: RFC 8657 parameters without the request naming an
// account or method, repeated parameters, case and trailing dots,
// critical known tags, and issuemail.
func TestCAADecide(t *testing.T) {
	t.Parallel()
	p := func(flag uint8, tag, value string) caa.Property {
		return caa.Property{Flag: flag, Tag: tag, Value: value}
	}
	le := caa.Request{Name: "www.example.test", Issuer: "letsencrypt.org", AccountURI: "https://acme/acct/1", Method: "dns-01"}
	for _, tc := range []struct {
		name   string
		rrset  []caa.Property
		req    caa.Request
		allow  bool
		reason string
	}{
		{"empty", nil, le, true, "no issue property"},
		{"case", []caa.Property{p(0, "ISSUE", "LetsEncrypt.ORG")}, le, true, "authorises"},
		// The issuer-domain-name ABNF has no trailing dot.
		{"trailing dot", []caa.Property{p(0, "issue", "letsencrypt.org.")}, le, false, "malformed"},
		{"critical known tag", []caa.Property{p(128, "issue", "letsencrypt.org")}, le, true, "authorises"},
		{"reserved flag", []caa.Property{p(1, "tbs", "x")}, le, true, "no issue property"},
		{"account matches", []caa.Property{p(0, "issue", "letsencrypt.org; accounturi=https://acme/acct/1")}, le, true, "authorises"},
		{"account missing", []caa.Property{p(0, "issue", "letsencrypt.org; accounturi=https://acme/acct/1")}, caa.Request{Name: "a.test", Issuer: "letsencrypt.org"}, false, "request names none"},
		{"account twice", []caa.Property{p(0, "issue", "letsencrypt.org; accounturi=https://acme/acct/1; accounturi=https://acme/acct/1")}, le, false, "more than one accounturi"},
		{"method listed", []caa.Property{p(0, "issue", "letsencrypt.org; validationmethods=http-01,dns-01")}, le, true, "authorises"},
		{"method not listed", []caa.Property{p(0, "issue", "letsencrypt.org; validationmethods=http-01")}, le, false, "limits validation methods to http-01"},
		{"method missing", []caa.Property{p(0, "issue", "letsencrypt.org; validationmethods=http-01")}, caa.Request{Name: "a.test", Issuer: "letsencrypt.org"}, false, "request names none"},
		{"issuewild alone, non-wildcard", []caa.Property{p(0, "issuewild", ";")}, le, true, "no issue property"},
		{"issuewild ; wildcard", []caa.Property{p(0, "issue", "letsencrypt.org"), p(0, "issuewild", ";")}, caa.Request{Name: "*.a.test", Issuer: "letsencrypt.org"}, false, "authorises no CA"},
		{"unknown critical beats issue", []caa.Property{p(0, "issue", "letsencrypt.org"), p(128, "future", "x")}, le, false, "unknown critical property"},
	} {
		d := caa.Decide(tc.rrset, tc.req)
		if d.Allowed != tc.allow || !strings.Contains(d.Reason, tc.reason) {
			t.Errorf("%s: allowed=%v %q, want %v and %q", tc.name, d.Allowed, d.Reason, tc.allow, tc.reason)
		}
	}
	d := caa.Decide([]caa.Property{p(0, "issue", ";"), p(0, "issuemail", "mail.example.net; a=b"), p(0, "iodef", "mailto:x@example.test")}, le)
	if len(d.IssueMail) != 1 || d.IssueMail[0].Domain != "mail.example.net" || len(d.Iodef) != 1 {
		t.Errorf("issuemail/iodef: %+v", d)
	}
}

// FuzzCAAParseIssueValue: the parser never panics, and what it accepts
// parses again to the same value when re-serialised.
func FuzzCAAParseIssueValue(f *testing.F) {
	for _, s := range []string{"", ";", "ca.example.net", "ca.example.net; accounturi=https://x/1; validationmethods=dns-01", " a ; b = c ;", "%%", "a; b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := caa.ParseIssueValue(s)
		if err != nil {
			return
		}
		var b strings.Builder
		b.WriteString(v.Domain)
		for _, p := range v.Parameters {
			b.WriteString("; " + p.Tag + "=" + p.Value)
		}
		w, err := caa.ParseIssueValue(b.String())
		if err != nil || w.Domain != v.Domain || len(w.Parameters) != len(v.Parameters) {
			t.Fatalf("%q -> %q: %+v, %v", s, b.String(), w, err)
		}
	})
}
