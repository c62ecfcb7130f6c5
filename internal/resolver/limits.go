package resolver

import "time"

// Work bounds of the resolver (../../../shared/LIMITS.md, "Resolver: work
// bounds"). Each names the attack or RFC it stops; tests in limits_test.go
// drive a scenario into each one and check that the query ends with
// SERVFAIL and an Extended DNS Error (RFC 8914). Change them here only.
const (
	// maxSendsPerName bounds the upstream queries spent resolving one
	// name (one target of a chain, or one NS address). It is what ends an
	// endless delegation (each referral pointing one label deeper, or to
	// new servers) and a set of servers that all time out.
	maxSendsPerName = 32

	// maxSendsPerQuery bounds the upstream queries one client query may
	// cause in total, sub-queries for NS addresses included. A single
	// query must never turn into a flood (NXNSAttack, CVE-2020-12662).
	maxSendsPerQuery = 200

	// maxDepth bounds nested resolutions: a glueless NS name whose zone is
	// served by glueless NS names, and so on. It ends cyclic NS
	// dependencies (a.test served by ns.b.test, b.test by ns.a.test).
	maxDepth = 7

	// maxNSNames is how many NS names of one delegation are considered;
	// the rest are ignored. NXNSAttack (CVE-2020-12662) used referrals
	// with hundreds of glueless names.
	maxNSNames = 13

	// maxFailedTargets bounds the NS address lookups that may fail per
	// client query (NXNSAttack; Unbound's MAX_TARGET_NX is 5).
	maxFailedTargets = 5

	// maxAggressiveHashes bounds the NSEC3 hashes one aggressive lookup
	// computes (aggressive_nsec3.go): one per label from the name up to
	// its zone, and the two names it must see covered. A name deeper
	// than that is asked upstream, so no query buys unbounded hashing
	// (CVE-2023-50868, the NSEC3 closest encloser exhaustion).
	maxAggressiveHashes = 16

	// maxReferralDS bounds the DS RRsets (or their denials) kept from
	// referrals for one client query's validation (reply.go): enough for
	// every zone cut of a full CNAME chain, so that a query meeting
	// endless referrals cannot make its memory grow with them.
	maxReferralDS = 64

	// maxChain bounds the CNAME and DNAME links followed for one client
	// query (RFC 1034 §3.6.2; BIND's max-restarts). It ends CNAME loops.
	maxChain = 11

	// maxQueryTime bounds the time spent on one client query; when no
	// server answered by then the reply is SERVFAIL with EDE 22 (No
	// Reachable Authority). Slow or black-holed upstreams cannot hold a
	// client, or the resolver's goroutines, longer.
	maxQueryTime = 10 * time.Second

	// attemptTimeout bounds one upstream exchange (UDP, and TCP if the
	// transport falls back to it).
	attemptTimeout = 1500 * time.Millisecond

	// maxTriesPerServer is how often one server is asked for one name
	// before it is given up for that name (timeouts and retries).
	maxTriesPerServer = 2

	// maxMinimise bounds the extra queries of QNAME minimisation for one
	// name; past it the full name is sent (RFC 9156 §2.3 MAX_MINIMISE_COUNT
	// = 10), so a name with many labels costs no more than a few queries.
	maxMinimise = 10

	// maxWaiters bounds the clients waiting on one in-flight resolution
	// (DNSBomb: many queries piling onto one slow upstream query, to be
	// released at once as a burst of replies).
	maxWaiters = 100

	// minFailureTTL and maxFailureTTL bound how long a failed resolution
	// (SERVFAIL) is remembered per question: 1 s the first time, doubling
	// on each failure in a row, at most 5 minutes (RFC 9520 §3.2). Without
	// it, clients retrying a broken name (TsuNAME: cyclic NS records)
	// make the resolver hammer the authoritative servers.
	minFailureTTL = time.Second
	maxFailureTTL = 5 * time.Minute

	// maxFailureEntries bounds the failure cache; it is emptied when full,
	// so random names cannot grow it.
	maxFailureEntries = 10000

	// maxPendingPerClient bounds the client queries from one IP address
	// waiting for a resolution; more are dropped unanswered (DNSBomb:
	// queries piled up and released as one burst of replies towards a
	// spoofed victim).
	maxPendingPerClient = 1000

	// udpSize is the EDNS UDP payload advertised upstream and the largest
	// UDP reply sent to clients: 1232 (DNS flag day 2020; no IP
	// fragmentation, which fragment-injection spoofing needs).
	udpSize = 1232
)

// targetFetches is how many NS addresses a resolution at a given depth
// may look up for one delegation (NXNSAttack; Unbound's
// target-fetch-policy "3 2 1 0 0"). A client query may chase three
// glueless names, a sub-query two, and so on.
var targetFetches = [...]int{3, 2, 1, 0, 0, 0, 0, 0}
