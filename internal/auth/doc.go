// Package auth is rensa's authoritative engine: a dns.Handler that answers
// queries from the zones of a zone.Set, as NSD or Knot DNS do, and never
// recurses.
//
//	srv, err := auth.New(auth.Config{Zones: zone.NewSet(z), NSID: "ns1"})
//	...
//	dns.ListenAndServe(":53", "udp", srv)   // or any listener of internal/server
//	srv.SetZones(reloaded)                  // atomic swap; queries in flight keep the old set
//
// # The life of a query
//
// ServeDNS finds the transport (the writer's Network method, else its
// remote address) and calls Answer, which builds the reply without I/O in
// four steps. Each step is one small function; the file is in brackets.
//
// 1. Classify the request [request.go, edns.go]. Before any zone is
// looked at, the header decides: a response (QR=1) gets no reply at all; a
// misplaced or repeated OPT or TSIG record, a QDCOUNT other than 1 or a
// meta type as QTYPE get FORMERR; a TSIG-signed query gets NOTAUTH with
// TSIG error BADKEY (no keys yet); EDNS version above 0 gets BADVERS; an
// opcode other than QUERY gets NOTIMP; AXFR and IXFR, and classes other
// than IN, CH and ANY, get REFUSED. CHAOS TXT queries for version.bind,
// version.server, id.server and hostname.bind are answered from Config
// [chaos.go].
//
// 2. Choose the zone [lookup.go]. The zone with the longest origin that
// holds the query name answers; none means REFUSED (AA=0). DS lives on the
// parent side of a cut, so a DS query at a zone's apex goes to the parent
// zone when the server hosts it too.
//
// 3. Classify the name, then switch [lookup.go, dname.go]. zone.Lookup
// walks the zone (RFC 1034 §4.3.2) and returns a Result whose Kind
// answerLink switches on:
//
//   - Success: the records, under the query name as asked (a wildcard's
//     owner becomes the query name, RFC 4592). ANY over UDP gets one RRset
//     (RFC 8482), over TCP all of them.
//   - CNAME: the CNAME goes in the answer and the lookup goes on at its
//     target, inside the same zone only.
//   - DNAME: the DNAME and a CNAME synthesised from it (RFC 6672) go in,
//     and the lookup goes on at the new name; a new name over 255 octets
//     is YXDOMAIN.
//   - Delegation: a referral (AA=0): the cut's NS RRset in the authority
//     section, glue for its name servers in the additional section. After
//     a CNAME or DNAME link the reply stays authoritative.
//   - NoData and NameError: NOERROR or NXDOMAIN with the zone's SOA, its
//     TTL capped by the SOA MINIMUM (RFC 2308 §3).
//
// Chains stop after maxChainLinks links or at the first name seen twice;
// the rcode is the last link's (RFC 6604). Zone records are shared: only
// records whose owner must change are copied.
//
// 4. Size the reply [reply.go]. The OPT record (our UDP size, DO copied,
// NSID when asked) and any TSIG go last in the additional section. Over UDP
// the reply must fit min(max(512, client's EDNS size), MaxUDPSize) octets,
// 1232 by default; a referral first sheds glue for name servers outside
// the delegated zone; when it still does not fit, the reply keeps only its
// question and OPT and sets TC=1 so the client retries over TCP (RFC 9471).
//
// Every limit is a named constant in limits.go with the RFC or attack it
// answers.
//
// # DNSSEC records [reply.go, dnssec.go, denial.go]
//
// Without the DO bit a reply carries no DNSSEC record the client did not
// ask for (RFC 3225, RFC 4035 §3.2.1). With DO, and from a signed zone:
//
//   - Every RRset goes in with the RRSIGs the zone holds for it (node.Sigs):
//     the reply's add methods take whole RRsets with their node. A
//     wildcard's signatures are shown under the query name (the Labels
//     field tells the validator), a negative SOA's take its capped TTL.
//     Synthesised records (the CNAME of a DNAME) have none.
//   - NXDOMAIN: with NSEC, the NSEC covering the name and the one covering
//     the wildcard at its closest encloser (RFC 4035 §3.1.3.2); with NSEC3,
//     the closest encloser proof (the NSEC3 matching the closest encloser,
//     the one covering the next closer name) and the NSEC3 covering the
//     wildcard (RFC 5155 §7.2.2).
//   - NODATA: the NSEC or NSEC3 of the name, whose bitmap lacks the type
//     and CNAME (RFC 4035 §3.1.3.1, RFC 5155 §7.2.3); at an empty
//     non-terminal, the NSEC covering it. A DS query at a delegation that
//     opt-out left out of the NSEC3 chain gets the closest provable
//     encloser proof (§7.2.4).
//   - Wildcard answers: the NSEC covering the query name, or the NSEC3
//     covering the next closer name (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6);
//     wildcard NODATA adds the wildcard's own NSEC or NSEC3 (§3.1.3.4,
//     §7.2.5).
//   - Referrals: the signed DS RRset of the cut, or the proof that there is
//     none: the cut's NSEC or NSEC3, or with opt-out the closest provable
//     encloser proof whose next closer NSEC3 has the Opt-Out flag
//     (RFC 4035 §3.1.4, RFC 5155 §7.2.7). Glue is never signed.
//
// Each NSEC or NSEC3 record goes in once per reply, even across CNAME
// links. A zone is NSEC3-signed when its apex has an NSEC3PARAM record,
// NSEC-signed when the apex has an NSEC record. Matching and covering
// records are found in a denialIndex (sorted owners, or NSEC3 hashes),
// built on first use per zone snapshot and dropped with the zone set.
// NSEC3 proofs hash names at query time, so a pre-signed zone whose
// NSEC3PARAM asks for more than 50 extra iterations is refused by
// CheckNSEC3 [nsec3cap.go] before it is served (RFC 9276), and never
// hashed for if served anyway (it gets no NSEC3 proofs).
// A signed reply too big for UDP is truncated (TC=1) like any other and
// goes whole over TCP.
//
// With Config.FullResponses, positive answers also carry the apex NS
// RRset and the addresses of NS, MX and SRV targets [additional.go], as in
// the examples of RFC 4035 and RFC 5155 Appendix B, which the tests
// reproduce.
//
// # Online signing [signer.go]
//
// A Signer signs zones with keys (LoadKeys reads BIND key files) and keeps
// them fresh: Refresh re-signs a zone halfway between its signing and its
// earliest signature expiration and swaps the set with SetZones, so no
// expired signature is ever served and the fast path's precompiled
// replies go with the old set.
package auth
