package transport

import "time"

// Limits of the clients. Each one names the RFC or the attack it
// answers; change them here and nowhere else.
const (
	// DefaultTimeout is the per-attempt wait for a reply when
	// Do53.Timeout is zero. One attempt is one UDP send or one TCP
	// connection; the context bounds the whole exchange.
	DefaultTimeout = 2 * time.Second

	// maxNearMisses is how many non-matching replies one attempt ignores
	// before it gives up early. A flood of replies with the wrong ID or
	// question is a spoofing attempt (Kaminsky); RFC 5452 section 9.1
	// says a resolver that detects one MAY abandon UDP and re-ask over
	// TCP, which is what Do53 does. Over TCP the same count ends the
	// attempt, since a server that keeps sending wrong replies on its own
	// connection is broken.
	maxNearMisses = 16

	// headerLen is the fixed DNS header size (RFC 1035 section 4.1.1);
	// anything shorter cannot be a reply and counts as a near miss.
	headerLen = 12

	// maxUDPReply is the receive buffer for one UDP reply: the largest
	// DNS message (RFC 1035 section 4.2.2 length field, RFC 6891 section
	// 6.2.5), so a reply bigger than the advertised EDNS size is read
	// whole rather than silently cut.
	maxUDPReply = 65535

	// maxTCPMessage is the largest message the two-byte length prefix
	// of DNS over TCP can frame (RFC 1035 section 4.2.2, RFC 7766
	// section 8). A query that packs larger cannot be sent at all.
	maxTCPMessage = 65535

	// maxPipelined caps the queries in flight on one DoT connection: the number a server
	// handles at once (LIMITS.md, RFC 7766 §6.2.1.1). Further exchanges wait for a slot.
	maxPipelined = 100

	// dohIdleConnTimeout is how long the DoH client keeps an idle connection for reuse.
	// Servers close theirs sooner (LIMITS.md: 10 s); the client then just dials again.
	dohIdleConnTimeout = 30 * time.Second

	// doqIdleTimeout is how long the DoQ client keeps a QUIC connection without traffic:
	// the server's idle timeout (LIMITS.md); whichever side is shorter wins (RFC 9000
	// §10.1).
	doqIdleTimeout = 10 * time.Second
)
