// Package takeover finds dangling DNS records before an attacker does:
// CNAME, NS, MX and SRV records whose targets someone else could claim.
// rensa uses it for "rensa audit takeover".
//
// # What a subdomain takeover is
//
// The guide tells it in six steps:
//
//  1. The owner of example.test puts a site on a CDN and points a name at
//     it: sub.example.test CNAME sub.example.cdnprovider.test.
//  2. Later the site is shut down and the CDN account deleted; the CDN
//     releases sub.example.cdnprovider.test.
//  3. Nobody removes the CNAME: it now dangles, pointing at a name that
//     does not exist (NXDOMAIN).
//  4. An attacker finds it (scanning DNS, certificate logs, old links).
//  5. The attacker opens an account at the same CDN and claims
//     sub.example.cdnprovider.test, which the CDN gives to whoever asks
//     first.
//  6. sub.example.test now serves the attacker's content under the owner's
//     name: the URL is right, a CA issues a certificate for it (the
//     attacker controls the content, so validation passes), cookies scoped
//     to example.test go to it, and password managers fill in passwords.
//
// The same happens with a delegation (NS) to a DNS host where the zone was
// deleted or to a name server name nobody owns, with MX records (mail for
// the domain goes to the attacker) and SRV records, and with any target in
// a domain that was never registered or has expired: anyone can buy it.
//
// # What the scanner checks
//
// For each record ([Record]; from a zone file with [FromZone], or from
// names with [Scanner.Discover]) it resolves the target, following its
// CNAME chain (at most [MaxCNAMEChain] links), through a resolver, and
// reports a [Finding] when:
//
//   - the final target does not exist (ReasonNXDomain);
//   - and, worse, its registrable domain does not exist either
//     (ReasonUnregistered: the public suffix list says what is registrable);
//   - the target's zone's servers answer REFUSED or SERVFAIL, so the
//     resolver says SERVFAIL (ReasonLame), or a delegated zone is lame;
//   - with Config.HTTP, the target resolves but the web page at the record's
//     name is the service's "nothing here" page (ReasonHTTP).
//
// Services are recognised by the fingerprints of can-i-take-over-xyz
// (CC BY 4.0, embedded; [DefaultFingerprints], [Attribution]): the
// service's CNAME suffixes and its fingerprint (NXDOMAIN, a page text or
// an HTTP status). Each finding has a [Severity] and a [Confidence]:
// an unregistered domain is critical; a known-vulnerable service is high;
// a name that does not exist at an unknown provider is medium; a service
// the fingerprints call not vulnerable is low. [WriteSARIF] writes a
// report as SARIF 2.1.0 for code-scanning tools.
//
// # Usage
//
//	z, err := zone.Load("example.test.zone", "", zone.LoadOptions{})
//	if err != nil {
//		return err
//	}
//	s, err := takeover.New(takeover.Config{Resolver: &transport.Do53{Addr: "127.0.0.1:53"}})
//	if err != nil {
//		return err
//	}
//	rep, err := s.Scan(ctx, takeover.FromZone(z))
//	for _, f := range rep.Findings {
//		fmt.Println(f)
//	}
//
// All work is bounded (limits.go): records per scan, lookups at once,
// chain length, page size and fetch time.
package takeover
