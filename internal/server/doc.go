// Package server is the listening side of DNS: it serves any dns.Handler over UDP and TCP,
// and over TLS (DoT), HTTPS (DoH) and QUIC (DoQ), on as many addresses as asked, and shuts
// down gracefully.
//
// # Usage
//
//	srv, err := server.New(server.Config{Handler: handler})
//	if err != nil {
//		return err
//	}
//	udpAddr, tcpAddr, err := srv.Listen("127.0.0.1:5353")
//	if err != nil {
//		return err
//	}
//	...
//	err = srv.Shutdown(ctx) // stop reading, answer what is in flight, close
//
// Config's zero value works once Handler is set; limits default to ../shared/LIMITS.md
// (see limits.go). Port 0 picks a free port; Listen picks one free for both UDP and TCP.
//
// # What a received message goes through
//
// Every message, over either transport, takes the same path (serve.go):
//
//  1. Shorter than the 12-byte header, or a response (QR=1): no reply. Answering
//     responses would let two servers bounce packets at each other forever.
//  2. Longer than the transport reads whole (UDP: 4096 bytes): FORMERR.
//  3. Config.RawHandler, if set, may answer from the raw bytes (precompiled answers);
//     the reply is sent as is.
//  4. Otherwise the message is unpacked into a dns.Msg; if that fails the reply is FORMERR
//     with the query's ID, opcode, RD bit and, when it parses, its question.
//  5. Config.Handler gets the dns.Msg and a dns.ResponseWriter that also has
//     Network() string ("udp" or "tcp"): handlers type-assert interface{ Network() string }
//     to apply UDP size limits and set TC. The server never truncates.
//
// A handler that panics is logged with its stack and the query gets SERVFAIL (unless it
// already had a reply); the server keeps serving. The server does not verify TSIG:
// TsigStatus reports ErrTSIGNotVerified for a signed query.
//
// # UDP
//
// Each address gets Config.UDPSockets sockets (one per core by default) sharing its port
// with SO_REUSEPORT, so the kernel spreads clients over them. Each reply leaves from the
// socket its query came in on, to the query's source address. On a host with several
// addresses, bind each one rather than the wildcard so replies leave from the address the
// client asked.
//
// One goroutine reads each socket, a batch of up to 32 datagrams at a time, and does
// inline what cannot block: dropping, FORMERR for an oversized query, and RawHandler
// (precompiled answers), with buffers it owns, and writes those replies in one batch:
// read, answer and write on one goroutine, with no handoff between goroutines. That path
// allocates nothing per query: the writer's RemoteAddr is a net.UDPAddr of the batch slot,
// rewritten for each datagram (so RawHandler must not keep it). Every other query is copied
// to a worker goroutine that unpacks it and runs Handler, so a handler that blocks, as a
// resolver's does while it waits on other servers, holds up no other query. Workers are
// started as needed, up to 1000 per socket, and then reused; at the cap the socket waits.
// A worker whose reply finds no write under way becomes the writer: it yields once, so that
// the replies computed meanwhile join its batch, and writes them all at once.
//
// # Batch I/O
//
// Datagrams move through a small interface, batchIO (batchio.go): readBatch fills a slice
// of datagrams, writeBatch sends one, and each implementation keeps the buffers its system
// calls need. On Linux the server opens each UDP socket itself (udpFD, udpfd_linux.go:
// socket, options, bind), outside Go's network poller, and moves datagrams through it with
// mmsgIO (batchio_linux.go): one recvmmsg or one sendmmsg per batch, with the message
// headers, iovecs and socket addresses allocated once per socket and goroutine and reused,
// so a batch allocates nothing.
//
// Every call is raw (RawSyscall, outside the runtime's system call bookkeeping, whose
// hand-off of the P to another thread during a long batch call cost two context switches a
// batch) and passes MSG_DONTWAIT, so none blocks. The socket stays out of the poller
// because the poller keeps every socket registered for write readiness too, which puts an
// entry on its wait queue: on loopback the kernel frees each reply as it delivers it, making
// the socket writable again, and with an entry on the queue each reply cost a wake-up call
// (a lock taken with interrupts off and the epoll callback run), about 3 % of the server's
// time under load. Only when a read finds nothing queued does the reader register the
// socket, for input only, with an epoll instance of its own that Go's poller watches, park
// there, and deregister it when woken; under load the socket is almost never empty. The
// reader does not block in recvmmsg instead: a goroutine blocked in a system call keeps its
// P for 20 µs or more, and with one core every goroutine readied meanwhile waited (a
// resolver's cold queries took 70 % longer). If the send buffer is full (a link slower than
// the replies, never loopback), the writer waits for room at most 20 ms, then drops the
// batch's remaining replies, as the kernel drops datagrams that find a full buffer. Every
// system call holds a reference to the descriptor, and closing it waits for the last one,
// so no call ever reaches a descriptor number the system has handed to another file.
//
// Elsewhere, and in tests of the portable path, the socket is a net.UDPConn and
// portableIO moves one datagram per call through its ReadFromUDPAddrPort and
// WriteToUDPAddrPort, which allocate nothing either. The kernel stops a sendmmsg at the
// first datagram it refuses; the writer logs that one (at debug level), skips it and sends
// the rest.
//
// # TCP
//
// TCP follows RFC 7766: 2-byte length framing, messages up to 65535 bytes, and pipelining
// with out-of-order replies. One goroutine reads a connection; each query runs in its own
// goroutine and replies are written whole under a mutex, in the order they are ready. At
// most Config.MaxPipelined queries of a connection are in flight; further ones stay unread
// until one finishes. A connection must deliver its first query within
// Config.TCPFirstMessageTimeout and each next one within Config.TCPIdleTimeout; a reply
// write that takes longer than 10 s closes it. Over Config.MaxTCPConns, a new connection
// is accepted and closed at once, so its client fails fast instead of waiting in the
// kernel's backlog.
//
// # Encrypted transports
//
// The encrypted listeners are thin adapters: each turns its framing into the same path as
// above, so a handler serves every transport unchanged and sees Network() "tcp" (no
// truncation) on all three.
//
//	certs, err := server.LoadCertSource("server.pem", "server.key") // or SelfSigned(dir)
//	...
//	srv.ListenTLS("127.0.0.1:853", certs.TLSConfig())                // DoT, RFC 7858
//	srv.ListenHTTPS("127.0.0.1:443", "/dns-query", certs.TLSConfig()) // DoH, RFC 8484
//	srv.ListenQUIC("127.0.0.1:853", certs.TLSConfig())               // DoQ, RFC 9250
//	...
//	certs.Reload() // on SIGHUP: new handshakes get the new certificate
//
// DoT (tls.go) wraps the TCP listener in crypto/tls and reuses the TCP connection code
// above: the handshake counts against the first-message timeout, and everything else,
// pipelining, limits and the keepalive option, is as for TCP. Over TCP and DoT, a reply to a
// query that has an OPT record carries the RFC 7828 edns-tcp-keepalive option announcing
// Config.TCPIdleTimeout. Over DoT, DoH and DoQ, a reply to a query that carries an EDNS
// Padding option is padded to a multiple of 468 bytes (RFC 7830 §4, RFC 8467). Replies from
// RawHandler are sent as they are.
//
// DoH (https.go) serves HTTP/2 itself (h2conn.go: x/net's frame and HPACK codecs, one
// reader, workers for the Handler, one writer that sends many answers per write) and leaves
// HTTP/1.1 to net/http: one request is one query (GET ?dns= or POST
// application/dns-message), the reply's Cache-Control max-age is its smallest TTL, and bad
// requests get 400, 404, 405, 413, 414 or 415. DoQ (quic.go) runs
// quic-go: one query per stream, message ID 0. Both apply the same limits as TCP, mapped
// onto their protocols (connections per listener, HTTP/2 or QUIC streams per connection,
// handshake and idle timeouts). TLS 1.2 is the minimum everywhere (QUIC: 1.3).
//
// # Shutdown
//
// Shutdown stops reading: listeners close, UDP reads end (the sockets stay open for the
// replies in flight) and TCP connections lose their read side, so idle ones close at once
// and busy ones after their last reply; DoH sends HTTP/2 GOAWAY and DoQ stops accepting
// streams. It waits for every goroutine the Server started (DoH: for the requests in
// flight), then closes the sockets; if its context ends first it closes everything at once.
package server
