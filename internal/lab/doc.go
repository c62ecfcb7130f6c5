// Package lab reproduces the attacks of the study guide on loopback,
// each first against a deliberately weakened setup, where it succeeds,
// then against rensa's defaults, where it fails, and measures both. It
// is what "rensa lab" runs.
//
//	env := lab.NewEnv(lab.Config{Short: true})
//	s, err := lab.Lookup("poisoning")
//	...
//	rep, err := lab.Run(ctx, s, env, lab.NewNarrator(os.Stdout))
//	...
//	lab.WriteText(os.Stdout, rep) // figures and a verdict per setting
//
// A [Scenario] narrates numbered steps that follow the guide's diagram
// and returns a [Report]: per [Setting] (defence off or on) the measured
// [Figure]s, whether the attack succeeded, and a [Verdict]. [Scenarios]
// lists them in the order of the tour; "rensa lab all" runs them all.
//
// # Safety
//
// The lab attacks nothing but servers it starts itself. Every address a
// scenario uses goes through [CheckLoopback] (the Env's dial and listen
// helpers call it) and anything outside 127.0.0.0/8 and ::1 is refused
// before a packet leaves ([ErrNotLoopback]). Each scenario is bounded in
// time ([ScenarioTimeout], [ShortScenarioTimeout]) and in the packets its
// attackers send ([MaxPackets]); limits.go has every bound. The actors
// follow DESIGN.md's address plan: name servers on 127.53.0.0/16 (the
// lab's own on 127.53.240.x), attackers on 127.66.0.0/16, clients on
// 127.10.0.0/16, victims on 127.99.0.0/16.
//
// # amplification
//
// A reflection attack: the attacker sends small queries (41 bytes)
// whose source address is the victim's, to servers with big answers; the
// servers flood the victim with answers it never asked for. Here the
// attacker's socket is bound to the victim's address (the loopback way of
// forging a source) and a sink on it counts the bytes that come back.
// ANY and DNSKEY with DO are the classic questions; rensa always answers
// ANY over UDP minimally (RFC 8482), but a signed DNSKEY set is still
// nine times the query. With rensa's defaults, Response Rate Limiting
// lets five answers a second through per client network and key, and
// turns every second dropped one into a TC=1 reply no bigger than the
// query: the victim gets less than the attacker sent. DNS cookies exempt
// real clients, who prove their address.
//
// # poisoning
//
// Blind cache poisoning (RFC 5452): an off-path attacker makes the
// resolver ask a question and races the real answer with forged replies.
// A forged reply counts only if it matches the query's ID, arrives at
// its source port, and, with 0x20, echoes the random case of the name.
// RFC 5452 section 7 gives the odds per window of opportunity,
// P_s = D·R·W / (N·P·I) ([Spoofing]). With one fixed source port (a
// lab-only weakening, transport.Do53.LocalAddr) P = 1 and a burst that
// covers the 65,536 IDs always wins; with a random port per query and
// 0x20 the same burst has odds of about 1e-10. The scenario prints the
// prediction next to the measurement. A third setting keeps the fixed
// port but signs the zones and validates: the attacker still wins the
// race, and the validator finds the unsigned forgery Bogus.
//
// # kaminsky
//
// Kaminsky's 2008 attack turns one won race into the whole zone: the
// attacker asks for random names that do not exist (each a new race, so
// losing costs nothing) and forges replies whose authority section says
// "example.test. NS ns.attacker.test." with an address for it. A
// 2008-style cache (the lab's deliberately naive resolver in naive.go,
// which caches every record of every reply) replaces the delegation, and
// from then on every name in example.test. is the attacker's. rensa's
// resolver keeps only the records on the path from the question (RFC 2181
// ranking, bailiwick scrub): the same forged replies, delivered as
// perfectly matching replies, change nothing. With the hierarchy signed
// and validation on, even forgeries that answer the question itself
// never reach a client: they are Bogus, or the validator's own fetch
// proves the real NXDOMAIN.
//
// # takeover
//
// A subdomain takeover in the guide's six steps: the owner points
// shop.example.test. at a CDN name, leaves the CDN, forgets the CNAME;
// the attacker claims the released name at the CDN (a simulated one: an
// HTTP API, its zone cdn.test., and an edge web server) and the victim's
// browser, resolving through rensa's resolver, gets the attacker's page
// under the owner's name. internal/audit/takeover, run between steps 3
// and 4, reports the dangling record; an owner who removes it is safe.
//
// # caa
//
// CAA (RFC 8659): the zone says which CAs may issue for it. Two CAs run
// on loopback; example.test. says CAA 0 issue "ca-a.test". CA A issues;
// CA B issues only if it skips the check, as CAs could before 2017, and
// refuses when it checks (internal/audit/caa).
//
// # dnssec
//
// An on-path tamperer between the resolver and ns1.example.test.
// rewrites www.example.test.'s address in a genuine, signed reply. A
// resolver that does not validate passes the forged address on; rensa's
// validator (internal/resolver/validate) walks the chain of trust from
// the lab root's key, prints it step by step, finds the RRSIG over the A
// RRset no longer verifies, and the client gets SERVFAIL with Extended
// DNS Error 6 (DNSSEC Bogus).
//
// # encrypted
//
// What an on-path observer (the café's Wi-Fi, an ISP) learns from a
// client's DNS. The client asks rensa's resolver the same names over
// Do53, DoT (RFC 7858) and DoH (RFC 8484) through connections the
// observer copies byte for byte: over Do53 it reads every query name;
// over DoT and DoH it sees TLS handshake and application-data records,
// their number and sizes, and no name.
//
// A scenario whose building blocks are missing is registered as a
// pending one (pending.go): it reports what it needs and runs nothing.
package lab
