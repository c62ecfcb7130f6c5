// Package cookie implements DNS Cookies (RFC 7873) with the interoperable
// Server Cookie of RFC 9018: a middleware for servers and a ClientJar for
// resolvers.
//
// # Why cookies
//
// A UDP query says where it comes from, but nothing proves it: an attacker can
// write a victim's address as the source, and the server's (larger) answer
// floods the victim. That is DNS amplification. A DNS Cookie is a small proof
// of return routability. The client sends an 8-byte Client Cookie; the server
// answers with a Server Cookie, a MAC over the Client Cookie, a timestamp and
// the client's address under a secret only the server knows. A client that
// sends that Server Cookie back has shown it receives replies at its source
// address. A forger who never sees the replies cannot produce one, so a
// server can give cookie-carrying clients what it denies to everyone else:
// internal/ratelimit exempts them from Response Rate Limiting, and Require
// makes a valid cookie the price of any large UDP answer. The client, in
// turn, checks that replies echo its Client Cookie, which an off-path
// attacker forging replies (cache poisoning) cannot know.
//
// # Server side
//
// New returns a middleware (func(dns.Handler) dns.Handler):
//
//	mw, err := cookie.New(cookie.Config{Secret: secret})
//	if err != nil {
//		return err
//	}
//	handler := mw(engine) // engine is the auth or resolver dns.Handler
//
// The Server Cookie is version 1 of RFC 9018 §4: version, reserved, a 32-bit
// timestamp and SipHash-2-4(Client Cookie | Version | Reserved | Timestamp |
// Client-IP) keyed by the 16-byte secret. It verifies from one hour old to
// five minutes ahead and is reissued when older than 30 minutes (limits.go).
// During a secret rollover set PreviousSecret: cookies made with it still
// verify and are answered with a cookie made with the new Secret.
//
// Handlers behind the middleware get a ResponseWriter that implements
// Validator; ValidCookie reports whether the query carried a valid Server
// Cookie. To let a rate limiter see it, wrap the limiter inside the cookie
// middleware: cookie(ratelimit(engine)).
//
// # Client side
//
// A resolver keeps one ClientJar: Prepare before sending a query to a server,
// Check on its reply; drop the reply when Check fails, and send the query
// again when it returns ErrBadCookie.
package cookie
