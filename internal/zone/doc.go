// Package zone holds the authoritative data of DNS zones: it loads RFC 1035
// master files, checks them as named-checkzone does, and answers lookups
// with a classified Result.
//
// # Loading
//
// Load reads a master file and returns an immutable *Zone; Parse does the
// same from an io.Reader. The text is parsed by miekg/dns's ZoneParser,
// with $ORIGIN, $TTL, $INCLUDE (relative to the including file's
// directory) and $GENERATE. Every Record keeps the file and line it came
// from, and every error names them:
//
//	z, err := zone.Load("db.example.test", "example.test.", zone.LoadOptions{})
//	// err: db.example.test:12: bad A A: "192.0.2.256"
//
// LoadOptions bounds what a file may ask for ($INCLUDE depth, $GENERATE
// steps, records, RRset size, types per name); its zero value takes the
// defaults in limits.go, and exceeding one is a *LimitError inside a
// *LoadError. A failed load returns no zone, so a server keeps the one it
// has.
//
// # Checking
//
// A zone that loads may still be wrong. Check returns Findings, each an
// Error (named-checkzone would refuse the zone) or a Warning (it loads,
// but probably not as meant):
//
//	for _, f := range z.Check() {
//		fmt.Println(f) // db.example.test:7: error: CNAME and other data at www.example.test. (A; ...)
//	}
//
// It checks the apex (one SOA, NS records), CNAME and DNAME rules, NS
// targets without addresses, data hidden below delegations and DNAMEs,
// records outside the zone, and CAA syntax (RFC 8659). It never queries
// the DNS: names outside the zone are left alone.
//
// # Looking up
//
// Lookup follows RFC 1034 §4.3.2 (with wildcards per RFC 4592 and DNAME
// per RFC 6672) and classifies the answer by Kind, so that a server can
// switch on it:
//
//	Success     the name has the type: Answer holds the RRset
//	CNAME       the name is an alias: Answer holds the CNAME
//	DNAME       an ancestor is redirected: Answer holds the DNAME
//	Delegation  the name is at or below a zone cut: Answer holds the NS
//	NoData      the name exists without that type
//	NameError   the name does not exist (NXDOMAIN)
//
// Result.Wildcard says the answer was synthesised from a wildcard, and
// Result.ClosestEncloser names the longest existing ancestor, which the
// proofs of non-existence need. A Set holds the zones a server serves and
// finds the closest one for a query name.
package zone
