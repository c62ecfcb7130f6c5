package ratelimit

import "time"

// The defaults of Response Rate Limiting. They are binding (LIMITS.md,
// "Amplification"): 5 responses/s per (response class, client prefix), a
// 15-second window, slip 2, at most 20,000 tracked entries. They are also
// BIND's recommended starting point (BIND 9 ARM, "Response Rate Limiting":
// responses-per-second 5, window 15, slip 2), so the flood test can run
// rensa and named with identical settings.
const (
	// defaultResponsesPerSecond is the rate each (class, prefix) is
	// answered at; more than a real resolver asks for one name per second,
	// far less than a flood.
	defaultResponsesPerSecond = 5
	// defaultWindow is how far back the limiter remembers: a prefix that
	// went over the rate owes up to Window seconds of credit, so a flood
	// cannot be sustained by pausing briefly.
	defaultWindow = 15 * time.Second
	// defaultSlip: every 2nd dropped response is sent as a tiny TC=1 reply
	// so that a real client behind a flooded prefix retries over TCP.
	defaultSlip = 2
	// defaultIPv4PrefixLen and defaultIPv6PrefixLen group clients the way
	// an attacker's spoofed addresses and a victim's network are grouped:
	// a /24, and a /56 (a typical end-site IPv6 assignment).
	defaultIPv4PrefixLen = 24
	defaultIPv6PrefixLen = 56
	// defaultMaxEntries bounds the table (and its memory) when a flood
	// spoofs many prefixes or asks for many names; past it the least
	// recently used entry is recycled, as BIND's max-table-size does.
	defaultMaxEntries = 20000
)

// maxWindow caps Window, so that credit arithmetic (rate × window) cannot
// overflow and a misconfiguration cannot silence a prefix for hours.
const maxWindow = time.Hour

// maxResponsesPerSecond caps ResponsesPerSecond for the same reason
// (BIND caps responses-per-second at 1000).
const maxResponsesPerSecond = 1000

// maxSlip caps Slip (BIND caps slip at 10).
const maxSlip = 10

// maxUnwrap bounds the walk along a chain of wrapped ResponseWriters when
// looking for a valid-cookie marker, so a writer that unwraps to itself
// cannot loop.
const maxUnwrap = 8
