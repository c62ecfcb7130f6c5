// Package validate is a validating resolver's DNSSEC engine: it proves,
// or disproves, an answer by the chain of trust from a trust anchor down
// to the data (RFC 4033, 4034, 4035; NSEC3 RFC 5155; RFC 6840).
//
// # The chain of trust, step by step
//
// For www.example.test. A, with the root's KSK as trust anchor, a
// validator makes the ten checks of the study guide:
//
//  1. Trust anchor: the root KSK's DS (or DNSKEY) is configured, not
//     fetched: IANARootAnchors, or a file (ReadAnchors).
//  2. Root DNSKEY: the root's DNSKEY RRset holds a key whose digest the
//     anchor's DS is (matchDS), and that key signed the RRset. All root
//     keys, the ZSK included, are now trusted.
//  3. The root ZSK signed the DS RRset of test. in the root zone.
//  4. That DS is the digest of one of test.'s DNSKEYs: the KSK of test.
//  5. test.'s KSK signed test.'s DNSKEY RRset: its ZSK is trusted.
//  6. test.'s ZSK signed the DS RRset of example.test.
//  7. That DS is the digest of example.test.'s KSK.
//  8. example.test.'s KSK signed its DNSKEY RRset: its ZSK is trusted.
//  9. example.test.'s ZSK signed the A RRset of www.example.test.
//  10. The signature is within its validity period, and its labels field
//     says the name was not made from a wildcard (or an NSEC/NSEC3 record
//     proves no closer name exists).
//
// Steps 2 to 8 are zoneOf: it walks from the anchor down the name one
// label at a time, asking each time for the DS RRset. A DS proves a
// secure child (childKeys); a signed NSEC or NSEC3 proving the DS absent
// shows either no zone cut there or an insecure delegation, where the
// walk ends Insecure. Each proven step is remembered (cut cache) until
// its TTL, so later answers from the same zones cost one verification.
//
// Negative answers are proven the same way, with the denial records in
// place of the data: NXDOMAIN needs the name and the wildcard at its
// closest encloser covered, NODATA the name's own NSEC or NSEC3 record
// without the type (or the wildcard's), and the NSEC3 closest-encloser
// proof hashes at most maxHashesPerQuery names.
//
// # Outcomes
//
// The verdict is Secure, Insecure, Bogus or Indeterminate (Security).
// Bogus carries the Extended DNS Error (RFC 8914) naming the fault: 6
// DNSSEC Bogus, 7 Signature Expired, 8 Signature Not Yet Valid, 9 DNSKEY
// Missing, 10 RRSIGs Missing, 12 NSEC Missing. Zones signed only with
// algorithms or DS digests rensa does not implement are Insecure (EDE 1,
// 2; RFC 6840 §5.2), and so are NSEC3 chains with more than 50 iterations
// (EDE 27; RFC 9276). The work of one client query is bounded (limits.go:
// KeyTrap, CVE-2023-50387; NSEC3 exhaustion, CVE-2023-50868); running out
// is Bogus.
//
// # Using the package
//
// The resolver (package resolver, validate_hook.go) gives Validate the
// question and a Fetch that asks authoritative servers with the DO bit:
//
//	v, err := validate.New(validate.Config{}) // IANA root anchors
//	vd := v.Validate(ctx, dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, fetch)
//	if vd.Security == validate.Bogus {
//		fmt.Println("SERVFAIL:", vd.EDE)
//	}
package validate
