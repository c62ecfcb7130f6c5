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
// answers. Replies carry no RRSIGs yet: the reply type's add methods take
// whole RRsets with their zone node, where signatures will be attached
// when the client sets DO.
package auth
