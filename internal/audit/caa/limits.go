package caa

import "time"

// Limits of the CAA checker. Each one names the RFC or the failure it
// answers; change them here and nowhere else.
const (
	// MaxClimb is the most names the relevant-RRset search asks about:
	// the request name and each ancestor up to the root. A name has at
	// most 127 labels (RFC 1035 section 2.3.4: 255 octets), so a search
	// never needs more than 128 lookups; anything longer is refused
	// rather than cut short, since skipping a level could skip the
	// RRset that forbids issuance (RFC 8659 section 3).
	MaxClimb = 128

	// DefaultTimeout bounds each CAA lookup when Config.Timeout is zero.
	// A lookup that times out is a DNS failure, never "no CAA records":
	// RFC 8659 section 3 lets a CA issue only when the search completed.
	DefaultTimeout = 5 * time.Second

	// MaxRecordsPerRRset is the most CAA records one relevant RRset may
	// hold before the check refuses to judge it; the same bound the
	// resolver and zone loader put on any RRset (LIMITS.md, cache
	// flooding).
	MaxRecordsPerRRset = 100

	// ednsSize is the UDP payload size advertised in queries (DNS Flag
	// Day 2020, LIMITS.md); larger answers come over TCP.
	ednsSize = 1232
)
