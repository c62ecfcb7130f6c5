package chain_test

import (
	"os"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/audit/chain"
	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
)

// A report as Walk makes it, printed as the guide's table.
func ExampleWriteTable() {
	rep := &chain.Report{Name: "www.example.test.", Type: "A", Rcode: "NOERROR", Security: validate.Bogus,
		EDE: "7 (Signature Expired): www.example.test. A: signature expired",
		Steps: []validate.Step{
			{Zone: ".", Key: "DS 20326 SHA256", Verifies: "trust anchor", Proves: "the DS of . is trusted", Security: validate.Secure},
			{Zone: "example.test.", Key: "DNSKEY 4711 (ZSK, ECDSAP256SHA256)", Verifies: "RRSIG over the A RRset of www.example.test.",
				Proves: "the A records are authentic", Err: "signature expired", Security: validate.Bogus},
		}}
	chain.WriteTable(os.Stdout, rep)
	// Output:
	// www.example.test. A: NOERROR, bogus
	// STEP  ZONE           KEY OR HASH                         VERIFIES                                     PROVES                       RESULT
	// 1     .              DS 20326 SHA256                     trust anchor                                 the DS of . is trusted       ok
	// 2     example.test.  DNSKEY 4711 (ZSK, ECDSAP256SHA256)  RRSIG over the A RRset of www.example.test.  the A records are authentic  bogus: signature expired
	// EDE 7 (Signature Expired): www.example.test. A: signature expired
}

// The report of a verdict a validating resolver already made: here a
// Bogus one, whose answer was refused.
func ExampleReportOf() {
	q := dns.Question{Name: "www.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	vd := validate.Verdict{Security: validate.Bogus,
		EDE: &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeDNSBogus, ExtraText: "www.example.test. A: bad signature"},
		Steps: []validate.Step{
			{Zone: ".", Key: "DS 20326 SHA256", Verifies: "trust anchor", Proves: "the DS of . is trusted", Security: validate.Secure},
			{Zone: "example.test.", Key: "DNSKEY 4711 (ZSK, ECDSAP256SHA256)", Verifies: "RRSIG over the A RRset of www.example.test.",
				Proves: "the A records are authentic", Err: "bad signature", Security: validate.Bogus},
		}}
	chain.WriteTable(os.Stdout, chain.ReportOf(q, resolver.Result{Rcode: dns.RcodeServerFailure}, vd))
	// Output:
	// www.example.test. A: SERVFAIL, bogus
	// STEP  ZONE           KEY OR HASH                         VERIFIES                                     PROVES                       RESULT
	// 1     .              DS 20326 SHA256                     trust anchor                                 the DS of . is trusted       ok
	// 2     example.test.  DNSKEY 4711 (ZSK, ECDSAP256SHA256)  RRSIG over the A RRset of www.example.test.  the A records are authentic  bogus: bad signature
	// EDE 6 (DNSSEC Bogus): www.example.test. A: bad signature
}
