// Package ratelimit implements Response Rate Limiting (RRL) for DNS servers,
// with BIND's semantics, as a middleware: func(dns.Handler) dns.Handler.
//
// # The attack
//
// DNS amplification is a reflection attack. The attacker sends small UDP
// queries (about 40 bytes) whose source address is forged to be the
// victim's, to servers whose answers are large (a signed DNSKEY set or an
// ANY answer, 1,000 bytes and more). Each server sends its answer to the
// victim: the attacker's bandwidth is multiplied by the answer-to-query
// size ratio, twenty-five times and more, and the traffic comes from
// innocent servers. An authoritative server cannot refuse to answer the
// public, and cannot tell a forged source from a real one.
//
// # The defence
//
// What it can notice is repetition: a flood asks the same question, or gets
// the same kind of answer, many times a second for one network. RRL keeps a
// credit account per (client prefix, response key) — a /24 for IPv4, a /56
// for IPv6, because a victim's network is attacked as a whole and an
// attacker spreads forged addresses over it — and sends at most
// ResponsesPerSecond responses a second for each. The key follows the
// response, not the query (Classify): a positive answer is keyed by name and
// type, NXDOMAIN by the zone (so random names do not each get a budget), a
// referral by the delegation, and all errors to a prefix share one key.
// Responses over the rate are dropped, and a prefix that keeps going over
// stays in debt for up to Window seconds.
//
// Dropping alone would also silence a real client that shares the victim's
// prefix. So every Slip-th dropped response "slips": it goes out as a TC=1
// reply carrying only the question. That reply is no bigger than the query —
// nothing is amplified — and a real client, on seeing TC=1, retries over TCP,
// which a forger cannot do (TCP needs a handshake with the real address).
// TCP responses are never limited.
//
// # Cookies
//
// A client that sends a valid DNS server cookie (internal/cookie) has proved
// the same thing TCP proves: it receives replies at its address. Such
// responses are exempt. The cookie middleware tells this middleware through
// the ResponseWriter, which implements CookieValidator; neither package
// imports the other. Wrap the cookie middleware outside this one, so that the
// cookie is checked before the limiter sees the response and the cookie is
// added to whatever the limiter lets through (slip replies included, which
// lets a client retry with the cookie instead of TCP):
//
//	cookies, err := cookie.New(cookie.Config{Secret: secret})
//	rrl, limiter, err := ratelimit.New(ratelimit.Config{})
//	handler := cookies(rrl(engine))
//	...
//	st := limiter.Stats() // answered, dropped, slipped, exempt
//
// # Servers that answer from wire bytes
//
// A server that answers some queries from precompiled wire replies before
// any middleware runs (internal/auth's FastPath, as
// server.Config.RawHandler) limits them with the same Limiter: it keeps the
// Key of each precompiled reply (Classify, once), asks DecideKey per
// reply, and on Slip sends SlipReply of the reply, the same octets the
// middleware sends. Both paths share the accounts and the counters, so a
// flood is limited the same whichever path answers it.
//
// The zero Config gives LIMITS.md's defaults, which are BIND's: 5 responses
// a second, a 15-second window, slip 2, /24 and /56, at most 20,000 entries.
package ratelimit
