package server

// Limits of the HTTP/2 connections of a DoH listener (h2conn.go), beyond those of Config
// (MaxTCPConns, MaxPipelined as SETTINGS_MAX_CONCURRENT_STREAMS, the TCP timeouts). Each
// bounds what one client can make the server hold or do.
const (
	// h2StreamWindow is the receive window of each stream, announced as
	// SETTINGS_INITIAL_WINDOW_SIZE: one byte more than the largest DoH POST body
	// (tcpMessageMax), so that a longer body is seen, and refused with 413, instead of
	// stalling at the window's edge. Streams are never given more.
	h2StreamWindow = tcpMessageMax + 1

	// h2ConnWindow is the connection's receive window (RFC 9113 §6.9): request bodies
	// held at once, across every stream of a connection, never exceed it. Credit comes back
	// as each body is handed to the DNS server; 256 KiB lets several large queries be in
	// flight while 150 connections hold at most 37.5 MiB.
	h2ConnWindow = 256 << 10

	// h2MaxFrameSize is the largest frame read: the protocol's default
	// SETTINGS_MAX_FRAME_SIZE, which the server never raises (a DNS query fits in a few
	// frames of it). A larger frame is a FRAME_SIZE_ERROR.
	h2MaxFrameSize = 16 << 10

	// h2MaxBacklog bounds the output a connection queues for its client and has not yet
	// written: responses and control frames (SETTINGS and PING acknowledgements,
	// RST_STREAM). Past it the connection stops reading, so a client that sends requests
	// or PINGs and never reads the answers (CVE-2019-9512, -9517) fills its own socket
	// buffers instead of the server's memory; the writer's timeout (tcpWriteTimeout) then
	// closes the connection. 256 KiB is thousands of DNS responses.
	h2MaxBacklog = 256 << 10

	// h2WriteBatch is the most output one write to the connection carries: a batch of many
	// small responses, in a few TLS records, without one slow client's backlog turning
	// into a single huge buffer.
	h2WriteBatch = 64 << 10

	// h2HeaderTableSize is the HPACK dynamic table of the request decoder: the protocol's
	// default SETTINGS_HEADER_TABLE_SIZE, so it needs no announcement.
	h2HeaderTableSize = 4096

	// h2RecentResets is how many streams the connection remembers having reset itself,
	// whose late DATA frames it then ignores (RFC 9113 §5.1, "closed") instead of
	// answering with STREAM_CLOSED.
	h2RecentResets = 32
)
