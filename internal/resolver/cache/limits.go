package cache

import "time"

// Limits of the cache (../../../../shared/LIMITS.md, "cache"). Each one
// names the attack or RFC it answers.
const (
	// MaxTTL caps how long any RRset is kept: one day. A forged or
	// mistaken record with a huge TTL (RFC 2181 §8 allows 2^31-1 s) would
	// otherwise stick for decades; Unbound's cache-max-ttl is the same.
	MaxTTL = 24 * time.Hour

	// MaxNegativeTTL caps a cached NXDOMAIN or NODATA: one hour. RFC 2308
	// §5 suggests 1 to 3 hours; one hour limits how long a spoofed denial
	// can blank out a name.
	MaxNegativeTTL = time.Hour

	// MaxRRsPerRRset is the most records one cached RRset may hold. Larger
	// sets are refused: they are a cache-flooding tool and no real RRset
	// needs them (LIMITS.md; the authoritative side has the same cap).
	MaxRRsPerRRset = 100

	// StaleTTL is the TTL of a stale answer (RFC 8767 §4 recommends 30 s),
	// so clients come back soon for fresh data.
	StaleTTL = 30 * time.Second

	// DefaultMaxBytes bounds the cache when Config.MaxBytes is zero:
	// 64 MiB. The bound is what keeps a random-subdomain flood from
	// growing memory without end (cache flooding).
	DefaultMaxBytes = 64 << 20

	// entryOverhead is the bytes counted per entry beyond its records'
	// wire size: the key, list element and bookkeeping.
	entryOverhead = 128

	// lameTTL is how long a server stays marked lame for a zone, and
	// noCaseTTL and noEDNSTTL how long a server's 0x20 and EDNS
	// fallbacks last, before it is given another chance (Unbound's
	// infra-host-ttl is 900 s).
	lameTTL   = 15 * time.Minute
	noCaseTTL = 15 * time.Minute
	noEDNSTTL = 15 * time.Minute

	// maxInfraHosts bounds the infra cache (one entry per server address
	// and per lame (server, zone) pair); the oldest half is dropped when
	// it is full. Referrals to thousands of addresses (NXNSAttack) cannot
	// grow it without bound.
	maxInfraHosts = 10000

	// initialRTT is the smoothed RTT assumed for a server never asked
	// (Unbound's UNKNOWN_SERVER_NICENESS, 376 ms): known-fast servers are
	// preferred, but an unknown one beats a known-slow one.
	initialRTT = 376 * time.Millisecond

	// timeoutRTT is the RTT charged for a timeout, so a black-holed
	// server sinks to the end of the list.
	timeoutRTT = 3 * time.Second
)
