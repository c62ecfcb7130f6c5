package server

import "time"

// Defaults for Config, from ../shared/LIMITS.md ("Transports"). Each one bounds what a single
// client, or a flood of them, can make the server hold.
const (
	// DefaultMaxTCPConns is the default cap on open TCP connections. It stops connection
	// exhaustion: a client that opens connections and never closes them (RFC 7766 §6.2.2,
	// §10). Over the cap a new connection is accepted and closed at once.
	DefaultMaxTCPConns = 150

	// DefaultTCPFirstMessageTimeout is how long a new TCP connection may take to deliver its
	// first whole query. It stops slowloris-style attacks that open connections and send
	// nothing, or dribble a message a byte at a time (RFC 7766 §6.2.3, §10).
	DefaultTCPFirstMessageTimeout = 3 * time.Second

	// DefaultTCPIdleTimeout is how long a TCP connection may wait for its next query once it
	// has sent one (RFC 7766 §6.2.3 idle timeouts; the value a server would announce in the
	// RFC 7828 edns-tcp-keepalive option).
	DefaultTCPIdleTimeout = 10 * time.Second

	// DefaultMaxPipelined is the default number of queries of one TCP connection handled at
	// once (RFC 7766 §6.2.1.1 pipelining, §7 out-of-order replies). It bounds the goroutines
	// and memory one connection can claim; further queries wait unread in the socket.
	DefaultMaxPipelined = 100
)

// Limits that are not configurable.
const (
	// tcpMessageMax is the largest DNS message the 2-byte TCP length prefix can carry
	// (RFC 1035 §4.2.2, RFC 7766 §8).
	tcpMessageMax = 65535

	// tcpWriteTimeout bounds one reply write on a TCP connection. It stops slow-read
	// attacks: a client that never reads its replies would otherwise pin the connection,
	// its query goroutines and a connection slot forever (RFC 7766 §10). A write that times
	// out closes the connection.
	tcpWriteTimeout = 10 * time.Second

	// udpQueryMax is the largest UDP query read whole. LIMITS.md caps UDP payloads at 1232
	// bytes both ways (DNS Flag Day 2020); 4096 leaves room for clients that ignore it. A
	// longer datagram arrives cut short and gets FORMERR: it cannot be read, and answering it
	// costs less than it did to send (no amplification).
	udpQueryMax = 4096

	// udpMaxInFlight caps the queries of one UDP socket in Handler at once: its worker
	// goroutines. While handlers block (a resolver waiting on upstream servers) each holds a
	// worker and its buffers; at the cap the socket is not read until one finishes, and the
	// kernel drops what does not fit its buffer, so a flood of slow queries cannot exhaust
	// memory.
	udpMaxInFlight = 1000

	// dohMaxGETParam is the longest dns= parameter of a GET request (LIMITS.md): a longer
	// one gets 414. Its base64url decodes to 48 KiB, room for any query.
	dohMaxGETParam = 64 << 10

	// dohMaxHeaderBytes caps the request line and headers, which hold a GET's dns=
	// parameter; it leaves room for dohMaxGETParam so that an oversized parameter gets 414
	// rather than the server's 431.
	dohMaxHeaderBytes = 2*dohMaxGETParam + 4096

	// dohWriteTimeout bounds a DoH request from the end of its headers to the end of its
	// reply, the handler's work included: a client that never reads its replies loses its
	// connection rather than pinning a goroutine and buffers (RFC 7766 §10 applied to HTTP).
	dohWriteTimeout = 30 * time.Second
)
