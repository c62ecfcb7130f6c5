// Package transport is the client side of DNS: it sends one query to one
// server and returns the reply, and nothing more. Deciding what a reply
// means (SERVFAIL, a referral, a lame server) is the resolver's job; a
// transport only errors when no acceptable reply arrived.
//
// Every transport implements [Exchanger]. [Do53] speaks classic DNS over
// port 53: UDP first, TCP when the UDP reply is truncated or when replies
// that do not match the query (near misses, the mark of a spoofing
// attempt) arrived instead of the real one.
//
// A query to a local server:
//
//	q := new(dns.Msg)
//	q.SetQuestion("www.example.test.", dns.TypeA)
//	q.SetEdns0(1232, true)
//
//	ex := &transport.Do53{Addr: "127.0.0.1:53", Timeout: time.Second}
//	r, err := ex.Exchange(ctx, q)
//	if err != nil {
//		return err // no reply at all: timeout, refused, only mismatches
//	}
//	fmt.Println(dns.RcodeToString[r.Rcode], r.Answer)
//
// Do53 defends against off-path spoofing the way RFC 5452 asks: a fresh
// socket with an OS-chosen random source port per query, a query ID drawn
// from a cryptographic random source (injectable as Do53.Rand for tests),
// and a reply accepted only if its ID and its question section, name case
// included, match the query exactly. Use [Do53.ExchangeOutcome] to see how
// an exchange went (which network carried the reply, how many near misses
// were ignored).
//
// [DoT], [DoH] and [DoQ] carry the same exchange encrypted (RFC 7858, RFC 8484,
// RFC 9250). Each keeps its connection for the next exchange (DoT pipelines queries on one
// TLS connection and matches replies by ID; DoH leaves reuse to its http.Client, over
// HTTP/2; DoQ opens one QUIC stream per query) and dials again when the server has closed
// it. The server's certificate must chain to the system roots, or to the CAs in CAFile, or
// carry the public key of SPKIPin (RFC 7858 §4.2):
//
//	dot := &transport.DoT{Addr: "127.0.0.1:853", CAFile: "selfsigned/ca.pem"}
//	defer dot.Close()
//	r, err := dot.Exchange(ctx, q)
//
//	doh := &transport.DoH{URL: "https://dns.example/dns-query"} // system roots
//	r, err = doh.Exchange(ctx, q)
//
// DoH and DoQ send ID 0 as their RFCs ask; the reply carries it. Queries with EDNS are
// padded to a multiple of 128 bytes (RFC 8467), so that their length does not give the
// name away; TLS sessions are resumed when a connection is dialled again.
//
// The hardening limits live in limits.go, each with the RFC it follows.
package transport
