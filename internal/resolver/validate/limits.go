package validate

import "time"

// Work bounds of the validator (../../../../shared/LIMITS.md, "Resolver:
// work bounds"). Each names the attack or RFC it stops; limits_test.go
// drives a scenario into each one. Change them here only.
const (
	// maxVerifyPerRRset bounds the signature verifications spent on one
	// RRset, and maxKeysPerTag the DNSKEYs with the same algorithm and
	// key tag tried for one signature. A zone could otherwise attach
	// hundreds of failing RRSIGs, or publish hundreds of keys sharing a
	// tag, each pairing costing a public-key operation (KeyTrap,
	// CVE-2023-50387).
	maxVerifyPerRRset = 8
	maxKeysPerTag     = 2

	// maxVerifyPerQuery bounds the signature verifications spent on one
	// client query, chain of trust included (KeyTrap, CVE-2023-50387:
	// the per-RRset bound alone still lets one query name many RRsets).
	maxVerifyPerQuery = 32

	// maxNSEC3Iterations is the largest NSEC3 iteration count the
	// validator hashes with; a zone using more is treated as Insecure with
	// EDE 27, Unsupported NSEC3 Iterations Value (RFC 9276 §3.2;
	// CVE-2023-50868, NSEC3 closest-encloser exhaustion).
	maxNSEC3Iterations = 50

	// maxNSEC3PerProof bounds the NSEC3 records looked at for one denial
	// proof, and maxHashesPerQuery the NSEC3 hashes computed for one
	// client query (CVE-2023-50868: a proof with many NSEC3 records and
	// a long name costs one hash per label per record).
	maxNSEC3PerProof  = 10
	maxHashesPerQuery = 600

	// maxFetches bounds the DNSKEY, DS and answer fetches one client
	// query's validation makes: the chain of trust of a name is one DS
	// and one DNSKEY fetch per label at most, and a CNAME chain adds
	// names (resolver limits: maxChain 11, maxSendsPerQuery 200).
	maxFetches = 48

	// maxChain bounds the CNAME and DNAME links followed while
	// validating, as the resolver does (RFC 1034 §3.6.2).
	maxChain = 11

	// bogusTTL is how long a Bogus verdict is remembered: long enough
	// that a client repeating a query for broken data costs no crypto,
	// short enough that a fixed zone recovers quickly (LIMITS.md, "bogus
	// 60 s"; Unbound's val-bogus-ttl).
	bogusTTL = 60 * time.Second

	// maxCacheTTL caps how long a proven key set, zone cut or answer is
	// remembered, and maxCacheEntries how many (the caches are emptied
	// when full, so random names cannot grow them).
	maxCacheTTL     = time.Hour
	maxCacheEntries = 20000
)
