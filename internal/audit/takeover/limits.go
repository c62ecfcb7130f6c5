package takeover

import "time"

// Limits of the takeover scanner. Each one names what it bounds and why;
// change them here and nowhere else.
const (
	// MaxRecords is the most records one scan checks (zone records or
	// names given). A scan is a burst of lookups through someone's
	// resolver; a bigger inventory should be split.
	MaxRecords = 100_000

	// MaxCNAMEChain is the longest CNAME chain followed from a target,
	// the resolver's own bound (LIMITS.md: CNAME chain ≤ 11, loops).
	MaxCNAMEChain = 11

	// MaxConcurrentLookups bounds the records checked at once, so a scan
	// never floods the resolver it uses (each check makes one to three
	// queries).
	MaxConcurrentLookups = 16

	// DefaultTimeout bounds each DNS lookup when Config.Timeout is zero.
	DefaultTimeout = 5 * time.Second

	// HTTPTimeout bounds one page fetch with Config.HTTP, connection
	// included: a slow or hostile server cannot stall the scan.
	HTTPTimeout = 10 * time.Second

	// MaxHTTPBody is the most bytes of a page read for fingerprint
	// matching; services put their "no such app" text near the top, and
	// a hostile server cannot make the scanner read without end.
	MaxHTTPBody = 1 << 20

	// MaxFingerprintsFile is the largest fingerprints file accepted
	// (the shipped one is about 30 KiB).
	MaxFingerprintsFile = 4 << 20

	// ednsSize is the UDP payload size advertised in queries (DNS Flag
	// Day 2020, LIMITS.md); larger answers come over TCP.
	ednsSize = 1232
)
