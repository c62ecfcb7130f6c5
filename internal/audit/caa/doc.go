// Package caa is the certificate authority's side of CAA (Certification
// Authority Authorization, RFC 8659): before a CA issues a certificate for
// a name, it asks the DNS which CAs the name's owner allows, and refuses
// if it is not one of them. rensa uses it for "rensa audit caa".
//
// # What CAA records say
//
// A CAA record is a flags octet, a tag and a value:
//
//	example.test.  CAA 0 issue     "ca.example.net"
//	example.test.  CAA 0 issue     "letsencrypt.org; accounturi=https://acme.example/acct/1; validationmethods=dns-01"
//	example.test.  CAA 0 issuewild ";"
//	example.test.  CAA 0 iodef     "mailto:security@example.test"
//	example.test.  CAA 128 tbs     "unknown"
//
// issue names a CA allowed to issue for the name and every name below it
// (";" alone allows none); issuewild does the same for wildcard
// certificates and, when present, overrides issue for them; iodef says
// where a CA reports a request it refused. RFC 8657 adds two parameters
// to issue values: accounturi binds the permission to one ACME account,
// validationmethods to the listed ACME challenge types. RFC 9495 adds
// issuemail for S/MIME certificates (parsed here, not used for TLS). The
// flag value 128 marks a property critical: a CA that does not understand
// a critical property's tag must not issue at all.
//
// # How a CA checks
//
//  1. Find the relevant RRset (RFC 8659 section 3): ask for the CAA
//     RRset of the request name (without a leading "*."), and if it is
//     empty, of its parent, and so on up to the root; the first
//     non-empty RRset is the relevant one. The resolver follows CNAMEs
//     at each name, so an alias is judged by its target's CAA records,
//     while the climb goes on from the alias's own parent.
//  2. No CAA records anywhere: any CA may issue.
//  3. A critical property with an unknown tag: no issuance.
//  4. A wildcard request uses the issuewild properties if there are any,
//     else the issue properties; other requests use issue. None of them:
//     CAA does not restrict issuance.
//  5. Issue only if one of them names this CA and its parameters
//     (accounturi, validationmethods) admit the request.
//
// A lookup that fails (SERVFAIL, REFUSED, a timeout) is not an empty
// RRset: the CA must not issue, and [Checker.Check] reports DNSFailure,
// never Allowed. NXDOMAIN and NODATA are empty RRsets.
//
// [Decide] is step 2 to 5 on a parsed RRset; [Checker] does step 1 over
// DNS; [Lint] checks the CAA records of a zone file before they go live.
//
// # Usage
//
//	c, err := caa.New(caa.Config{Resolver: &transport.Do53{Addr: "127.0.0.1:53"}})
//	if err != nil {
//		return err
//	}
//	res, err := c.Check(ctx, caa.Request{Name: "www.example.test", Issuer: "ca.example.net"})
//	if err != nil {
//		return err // res.Status == caa.DNSFailure: do not issue
//	}
//	fmt.Println(res.Status, res.RelevantName, res.Decision.Reason)
//
// Where Let's Encrypt's boulder is stricter than RFC 8659 (it treats flag
// value 1 as critical and refuses hyphens in parameter tags), this package
// follows the RFC.
package caa
