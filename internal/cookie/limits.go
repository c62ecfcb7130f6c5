package cookie

import "time"

// Sizes of the COOKIE option (RFC 7873 §4): an 8-byte Client Cookie,
// optionally followed by a Server Cookie of 8 to 32 bytes. Anything else is
// malformed and gets FORMERR (RFC 7873 §5.2.2).
const (
	clientCookieLen    = 8
	minServerCookieLen = 8
	maxServerCookieLen = 32
)

// serverCookieLen is the length of a version 1 Server Cookie (RFC 9018 §4):
// version (1), reserved (3), timestamp (4), hash (8). RFC 9018 §4.4 requires
// the whole option to be exactly 24 bytes for the hash input to be injective;
// any other length is a Server Cookie this server did not make.
const serverCookieLen = 16

// serverCookieVersion is the Version sub-field this package issues and
// verifies (RFC 9018 §4.1).
const serverCookieVersion = 1

// The timestamp window (RFC 9018 §4.3): a server SHOULD accept cookies up to
// one hour in the past (low-volume clients) and five minutes in the future
// (clock skew inside an anycast set), and SHOULD issue a fresh one when the
// cookie it received is more than half an hour old. Older cookies are replays
// the server no longer vouches for. The numbers are binding (LIMITS.md,
// "Amplification").
const (
	maxCookieAge    = time.Hour
	maxCookieFuture = 5 * time.Minute
	reissueAge      = 30 * time.Minute
)

// maxUDPPayload is the largest UDP reply a cookie may grow a response to
// (LIMITS.md: "UDP payload ≤ 1232 both ways", the DNS flag day 2020 value
// that avoids IP fragmentation). A reply the COOKIE option would push past the
// client's limit is sent as TC=1 instead, so the client retries over TCP.
const maxUDPPayload = 1232

// minUDPPayload is what a client without EDNS can receive (RFC 1035 §4.2.1).
const minUDPPayload = 512

// maxJarServers bounds the server cookies a ClientJar remembers: a resolver
// talks to many servers, and an attacker who makes it query random servers
// must not grow the jar without bound. Past the bound an arbitrary entry is
// forgotten; the cost is one reply without a valid server cookie.
const maxJarServers = 10000
