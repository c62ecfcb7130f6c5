package caa_test

import (
	"fmt"

	"github.com/rensa-dns/rensa/internal/audit/caa"
)

// Decide is the CA's verdict on a relevant RRset, once the search found
// it: here issue allows one CA, issuewild another for wildcards.
func ExampleDecide() {
	rrset := []caa.Property{
		{Flag: 0, Tag: "issue", Value: "ca1.example.net"},
		{Flag: 0, Tag: "issuewild", Value: "ca2.example.org"},
		{Flag: 0, Tag: "iodef", Value: "mailto:security@example.test"},
	}
	for _, req := range []caa.Request{
		{Name: "www.example.test", Issuer: "ca1.example.net"},
		{Name: "*.example.test", Issuer: "ca1.example.net"},
		{Name: "*.example.test", Issuer: "ca2.example.org"},
	} {
		d := caa.Decide(rrset, req)
		fmt.Println(req.Name, req.Issuer, d.Allowed)
	}
	fmt.Println(caa.Decide(rrset, caa.Request{Name: "example.test", Issuer: "x"}).Iodef)
	// Output:
	// www.example.test ca1.example.net true
	// *.example.test ca1.example.net false
	// *.example.test ca2.example.org true
	// [mailto:security@example.test]
}

// RFC 8657 parameters bind a permission to an ACME account and to
// validation methods.
func ExampleParseIssueValue() {
	v, err := caa.ParseIssueValue("letsencrypt.org; accounturi=https://acme.example/acct/1; validationmethods=dns-01")
	fmt.Println(v.Domain, v.Param("validationmethods"), err)
	_, err = caa.ParseIssueValue("letsencrypt.org; a_b=1")
	fmt.Println(err)
	// Output:
	// letsencrypt.org [dns-01] <nil>
	// caa: malformed issue value: parameter tag contains disallowed character: "a_b"
}
