// Package resolver is rensa's full-service recursive resolver: it answers
// clients' questions by asking the authoritative servers of the DNS itself,
// starting at the root, and remembers what it learns in a ranked cache
// (package resolver/cache). A [Resolver] is a dns.Handler.
//
// # The life of a recursive query
//
// A client asks "www.example.test. A" with RD set. ServeDNS checks the
// client's address against Config.Allow (REFUSED with EDE 18 otherwise: no
// open resolver), merges the query with an identical one already in
// flight (flight.go), and runs the per-query state machine (iterate.go):
//
//	cache ──hit──────────────────────────────────────────────> done
//	  │ miss (a cached CNAME restarts at its target)
//	delegation: the closest cached zone cut above the name, or the root hints
//	  │
//	pick-server: lowest smoothed RTT, not lame, not failed twice;
//	  │          glueless NS names are looked up in sub-queries
//	send: one label more than the zone (QNAME minimisation), random case
//	  │   (0x20), EDNS, through Config.Exchange
//	reply: scrub to the zone's bailiwick, classify, then switch:
//	       referral -> store the delegation, pick-server in the child
//	       no cut here (minimised) -> send one label more
//	       answer, NXDOMAIN, NODATA -> cache -> done
//	       CNAME/DNAME out of the zone -> cache, restart at the target
//	       lame, SERVFAIL, timeout -> pick-server (another server)
//
// Every transition can be watched through Config.Trace; [Resolver.Resolve]
// returns them with the result.
//
// # Defences against forged replies
//
// The transport makes a blind attacker guess a random query ID, a random
// source port and (0x20) the case of every letter of the name; a reply
// that does not echo the question exactly is not a reply; the random
// case is then undone in the reply's names (case.go), so it is never
// cached or served. A reply that
// does match still cannot change more than its own question: classify
// keeps only the records on the path from the question (the answer RRset,
// the chain leading to it, the SOA of a denial, or a referral's NS set
// with glue for those names, inside the asked server's zone). Unrelated
// answers, NS records in the authority section of an answer and
// additional addresses are dropped and never cached, and a delegation
// enters the cache only from the parent's referral. That is the Kaminsky
// attack's step — a reply for a random name carrying a new NS set for the
// zone — made powerless (kaminsky_test.go shows it 1,000 times). DNS
// Cookies (RFC 7873, cookie.go) make a reply carrying someone else's
// client cookie a non-reply, and a server that misbehaves is avoided for
// the rest of the query only, so forged replies cannot bench a real
// server for everyone.
//
// When every server fails, the question is remembered as failed for 1 s
// to 5 min with back-off (RFC 9520, failures.go); with Config.ServeStale,
// expired data is served instead (RFC 8767).
//
// # Work bounds
//
// Every limit is a named constant in limits.go with the attack it stops
// (NXNSAttack, endless delegation, CNAME loops, DNSBomb, slow upstreams).
// A resolution that hits one ends with SERVFAIL and an Extended DNS Error
// (RFC 8914) saying which.
//
// # Usage
//
//	r, err := resolver.New(resolver.Config{}) // IANA root hints, real network
//	if err != nil {
//		return err
//	}
//	srv, _ := server.New(server.Config{Handler: r})
//	srv.Listen("127.0.0.1:53")
//
// Tests and the testbed give Config.Hints (ParseHints reads the testbed's
// hints file) and Config.Dial (the testbed's port mapping) or
// Config.Exchange (an in-process fake network).
//
// # Tests
//
// Unit tests run the resolver on an in-process fake network (a map from
// server address to dns.Handler, fakenet_test.go). Scenarios in
// testdata/scenarios/*.txtar list zones per server address and queries with
// the answers they must get; replay_test.go plays the Deckard and Unbound
// iterator scenarios of ../../../shared/conformance the same way (set
// REPLAY_DIR to replay another directory), and testbed_test.go resolves the
// interop corpus through the testbed. blindspoof_linux_test.go (root only)
// floods the resolver with forged referrals over raw sockets: none poison
// it with the defaults, nor with a fixed port and No0x20 (the near-miss
// rule alone moves the query to TCP), while the lab-only weak settings
// (Config.SourceAddr with a fixed port, No0x20, NoNearMissTCP) are
// poisoned by the same run.
// ../interop/resolver_test.go compares answers with Unbound's over a
// testbed served by NSD and Knot DNS.
//
// DNSSEC validation plugs in through Config.Validator (package
// resolver/validate; validate_hook.go). With a Validator the resolver's
// own queries carry DO: the reply to the full question is handed to the
// validator's fetch of the same question, and the RRSIGs of authoritative
// answers are cached beside their RRsets (send.go), so a validated cache
// miss in a zone whose keys are known costs one upstream query, as an
// unvalidated one does.
//
// With a Validator the resolver also uses validated denials aggressively
// (RFC 8198; Config.NoAggressiveNSEC turns it off): the NSEC and NSEC3
// records of every Secure NXDOMAIN or NODATA are kept per zone, and a name
// they prove absent is answered NXDOMAIN or NODATA, with AD, without
// asking upstream (aggressive.go, aggressive_nsec3.go). A Secure answer
// expanded from a wildcard keeps the wildcard's RRset, its RRSIGs and the
// NSEC proving the name absent, so that another name under the wildcard
// is answered from them (§5.4, aggressive_wildcard.go): the RRset at the
// name, the wildcard's RRSIGs (whose labels field proves the expansion)
// and the NSEC, every TTL the least time left; a type the wildcard's own
// NSEC lacks gets the wildcard NODATA (NSEC zones only; in NSEC3 zones a
// kept NSEC3 must cover the name's next closer name). Only Secure data is
// kept, and an NSEC3 opt-out span proves nothing. A random-subdomain flood of a signed zone, or of names
// under its wildcard, costs its servers one query per span.
//
// # Cost of a cache miss
//
// The default exchange is transport.Do53, which on Linux opens a fresh
// socket per query with socket(2) and connect(2), handed to the runtime's
// poller: the random source port the defences need, without net.Dial's
// overhead.
// QNAME minimisation does not ask again for names the cache already shows
// to be no zone cut (sendName). BenchmarkColdMiss measures the path in
// process; ../../scripts/bench-resolver.sh against Unbound.
//
// # Forwarding
//
// With Config.Forward the resolver asks upstream resolvers instead of
// iterating (forward.go), over plain DNS, DoT, DoH or DoQ, and still
// validates every answer itself:
//
//	up, err := resolver.ParseUpstream("tls://192.0.2.53#dns.example", resolver.UpstreamOptions{})
//	if err != nil {
//		return err
//	}
//	r, err := resolver.New(resolver.Config{Forward: []resolver.Upstream{up}, Validator: v})
//
// The upstreams get RD, and DO and CD with a Validator, so that they hand
// over signatures and Bogus data alike; their answers are cached at the
// rank of non-authoritative data. A plain-DNS upstream can be forged as
// an authoritative server can, so its queries carry 0x20 and a DNS
// cookie, both checked in the reply, besides the random ID and port.
package resolver
