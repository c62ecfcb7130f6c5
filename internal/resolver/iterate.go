package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/cache"
)

// budget is shared by a client query and every sub-query it starts (for
// NS addresses): the work bounds of limits.go that span a whole client
// query, and its trace.
type budget struct {
	sends         int              // upstream queries sent
	failedTargets int              // NS address lookups that found nothing
	active        map[qkey]bool    // resolutions in progress, for cycles
	trace         []Transition     // every transition, when tracing
	tracing       bool             // record trace
	hook          func(Transition) // Config.Trace
	// forwarded keeps the upstreams' replies (forwarding mode, with a
	// Validator) for the validator's fetch of the same question.
	forwarded map[qkey]*dns.Msg
	// referralDS keeps, by child zone, the DS RRset or its signed denial
	// that a referral carried (with a Validator; reply.go), for the
	// validator's DS fetch when the parent's servers answer no DS query.
	referralDS map[string]*dns.Msg
}

// qkey names one resolution in progress.
type qkey struct {
	name  string
	qtype uint16
}

// nsServer is one name server of the zone being asked.
type nsServer struct {
	name    string
	addrs   []netip.Addr
	fetched bool // its address lookup was tried
}

// query is the state of resolving one name and type: the client's
// question at depth 0, an NS address at depth 1 and below. It belongs to
// one goroutine.
type query struct {
	r     *Resolver
	b     *budget
	depth int
	st    step

	qname  string // the current name of the chain, canonical
	qtype  uint16
	qclass uint16
	chain  []dns.RR // CNAME and DNAME links followed so far
	sends  int      // upstream queries for the current name

	zone     string // the zone being asked, canonical
	servers  []*nsServer
	failures map[netip.Addr]int // per server of zone
	fetches  int                // NS address lookups for zone

	minLabels int  // labels sent while minimising (RFC 9156)
	minCount  int  // minimised queries sent for the current name
	noMin     bool // minimisation abandoned for the current name

	server    netip.Addr // the server being asked
	useTCP    bool       // ask it over TCP (the UDP reply was truncated)
	badCookie bool       // a BADCOOKIE was retried already
	caseOff   bool       // ask q.server without 0x20 (it did not echo the case)
	gotEmpty  bool       // a server of zone answered with nothing at all
	triedGlue bool       // the parent-side addresses of zone's NS names were added
	sent      *dns.Msg   // what was sent, as sent (0x20 case included)
	reply     *dns.Msg   // its reply, question checked

	res Result
}

func (r *Resolver) newQuery(b *budget, name string, qtype, qclass uint16, depth int) *query {
	return &query{r: r, b: b, depth: depth, qname: dns.CanonicalName(name), qtype: qtype, qclass: qclass}
}

// run is the state machine: one loop, one switch, each state a method
// that picks the next state. It ends in stepDone with q.res filled in.
func (q *query) run(ctx context.Context) Result {
	k := qkey{q.qname, q.qtype}
	q.b.active[k] = true
	defer delete(q.b.active, k)
	q.to(stepCache, "")
	for q.st != stepDone {
		switch q.st {
		case stepCache:
			q.lookCache()
		case stepDelegation:
			q.findDelegation()
		case stepPickServer:
			q.pickServer(ctx)
		case stepSend:
			q.send(ctx)
		case stepReply:
			q.handleReply()
		case stepForward:
			q.forward(ctx)
		}
	}
	return q.res
}

// to moves to st and records the transition.
func (q *query) to(st step, format string, args ...any) {
	q.st = st
	if !q.b.tracing {
		return
	}
	t := Transition{Depth: q.depth, Step: st.String(), Name: q.qname, Type: q.qtype, Zone: q.zone,
		Note: fmt.Sprintf(format, args...)}
	if st == stepSend {
		t.Server = q.server
	}
	q.b.trace = append(q.b.trace, t)
	if q.b.hook != nil {
		q.b.hook(t)
	}
}

// fail ends the resolution with SERVFAIL and the Extended DNS Error code.
func (q *query) fail(code uint16, format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	q.res = Result{Kind: KindServFail, Rcode: dns.RcodeServerFailure,
		EDE: &dns.EDNS0_EDE{InfoCode: code, ExtraText: text}}
	q.to(stepDone, "SERVFAIL: %s", text)
}

// finish ends the resolution with an answer of kind k.
func (q *query) finish(k Kind, rcode int, answer, authority []dns.RR) {
	q.res = Result{Kind: k, Rcode: rcode, Answer: append(q.chain[:len(q.chain):len(q.chain)], answer...), Authority: authority}
	q.to(stepDone, "%s", k)
}

// lookCache answers from the cache, follows a cached CNAME, or goes on
// to find whom to ask.
func (q *query) lookCache() {
	res := q.r.cache.Get(q.qname, q.qtype, q.qclass)
	switch res.Kind {
	case cache.Positive:
		q.finish(KindAnswer, dns.RcodeSuccess, res.RRs, nil)
		return
	case cache.NXDomain:
		q.finish(KindNXDomain, dns.RcodeNameError, nil, []dns.RR{res.SOA})
		return
	case cache.NoData:
		q.finish(KindNoData, dns.RcodeSuccess, nil, []dns.RR{res.SOA})
		return
	}
	if q.qtype != dns.TypeCNAME {
		if c := q.r.cache.Get(q.qname, dns.TypeCNAME, q.qclass); c.Kind == cache.Positive {
			q.follow(c.RRs, c.RRs[0].(*dns.CNAME).Target)
			return
		}
	}
	if q.r.fwd != nil {
		q.to(stepForward, "cache miss")
		return
	}
	q.to(stepDelegation, "cache miss")
}

// follow adds links to the chain and restarts with target as the name,
// within maxChain links.
func (q *query) follow(links []dns.RR, target string) {
	if !q.addChain(links) {
		return
	}
	q.qname = dns.CanonicalName(target)
	q.sends, q.minCount, q.noMin = 0, 0, false
	q.to(stepCache, "following the chain to %s", q.qname)
}

// addChain appends links to the chain; past maxChain links (each CNAME,
// given or synthesised from a DNAME, is one) the resolution fails.
func (q *query) addChain(links []dns.RR) bool {
	q.chain = append(q.chain, links...)
	n := 0
	for _, rr := range q.chain {
		if rr.Header().Rrtype == dns.TypeCNAME {
			n++
		}
	}
	if n > maxChain {
		q.fail(dns.ExtendedErrorCodeOther, "CNAME/DNAME chain longer than %d links", maxChain)
		return false
	}
	return true
}

// findDelegation picks the closest cached zone cut at or above the name
// (above it for DS, which the parent serves), or the root hints.
func (q *query) findDelegation() {
	name := q.qname
	if q.qtype == dns.TypeDS && name != "." {
		name = parent(name)
	}
	for {
		if d, ok := q.r.cache.DelegationShared(name); ok {
			q.setZone(d.Zone, d.NS, d.Glue)
			break
		}
		if name == "." {
			q.setHints()
			break
		}
		name = parent(name)
	}
	q.to(stepPickServer, "closest zone cut")
}

// setZone makes zone, served by ns with the glue addresses glue, the zone
// to ask; addresses come from the glue and, for names without glue, from
// the cache.
func (q *query) setZone(zone string, ns []*dns.NS, glue []dns.RR) {
	q.zone = dns.CanonicalName(zone)
	q.servers, q.failures, q.fetches, q.gotEmpty, q.triedGlue = nil, nil, 0, false, false
	q.minLabels = dns.CountLabel(q.zone) + 1
	// The servers in one array, their pointers in one slice, their glue
	// addresses in one more: three allocations per delegation rather
	// than two per server and the slices' regrowths.
	n := min(len(ns), maxNSNames)
	all := make([]nsServer, 0, n)
	q.servers = make([]*nsServer, 0, n)
	var glueAddrs []netip.Addr
	if len(glue) > 0 {
		glueAddrs = make([]netip.Addr, 0, len(glue))
	}
	for _, rr := range ns {
		name := dns.CanonicalName(rr.Ns)
		if len(q.servers) == maxNSNames || slices.ContainsFunc(q.servers, func(s *nsServer) bool { return s.name == name }) {
			continue
		}
		from := len(glueAddrs)
		glueAddrs = appendAddrsOf(glueAddrs, glue, name)
		// Capped at its own addresses: an append to them (servers.go)
		// copies rather than overwrite the next server's.
		all = append(all, nsServer{name: name, addrs: q.usable(glueAddrs[from:len(glueAddrs):len(glueAddrs)])})
		s := &all[len(all)-1]
		if len(s.addrs) == 0 {
			s.addrs = q.cachedAddrs(name)
		}
		q.servers = append(q.servers, s)
	}
	q.shuffle()
}

// setFailures records n failures of server, a server of q.zone (at
// maxTriesPerServer it is not asked again for this name). The map is made
// on the first failure: most resolutions have none.
func (q *query) setFailures(server netip.Addr, n int) {
	if q.failures == nil {
		q.failures = map[netip.Addr]int{}
	}
	q.failures[server] = n
}

// setHints makes the root, as the hints describe it, the zone to ask.
func (q *query) setHints() {
	q.zone = "."
	q.servers, q.failures, q.fetches = nil, nil, 0
	q.minLabels = 1
	for _, name := range q.r.cfg.Hints.NS {
		q.servers = append(q.servers, &nsServer{name: name, addrs: q.usable(q.r.cfg.Hints.Addrs[name]), fetched: true})
	}
	q.shuffle()
}

// cachedAddrs returns the cached A and AAAA records of name or, when
// there are none, the glue for name in the cached delegation of a zone
// above it (the parent's side of the story, kept after the bailiwick
// scrub, as Unbound's parent-side addresses).
func (q *query) cachedAddrs(name string) []netip.Addr {
	var out []netip.Addr
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if res := q.r.cache.Get(name, t, dns.ClassINET); res.Kind == cache.Positive {
			out = append(out, addrsOf(res.RRs, name)...)
		}
	}
	if out = q.usable(out); len(out) == 0 {
		out = q.parentSideAddrs(name)
	}
	return out
}

// parentSideAddrs returns the glue for name in the closest cached
// delegation above it that has some.
func (q *query) parentSideAddrs(name string) []netip.Addr {
	for zone := name; zone != "."; {
		zone = parent(zone)
		if d, ok := q.r.cache.DelegationShared(zone); ok {
			if out := q.usable(addrsOf(d.Glue, name)); len(out) > 0 {
				return out
			}
		}
	}
	return nil
}

// usable drops the addresses the resolver may not send to (IPv6 with
// Config.NoIPv6).
func (q *query) usable(addrs []netip.Addr) []netip.Addr {
	if !q.r.cfg.NoIPv6 {
		return addrs
	}
	var out []netip.Addr
	for _, a := range addrs {
		if a.Is4() {
			out = append(out, a)
		}
	}
	return out
}

// shuffle puts the servers in random order, so that among servers of
// equal RTT the choice is not predictable.
func (q *query) shuffle() {
	var b [1]byte
	for i := len(q.servers) - 1; i > 0; i-- {
		if _, err := q.r.cfg.Rand.Read(b[:]); err != nil {
			return
		}
		j := int(b[0]) % (i + 1)
		q.servers[i], q.servers[j] = q.servers[j], q.servers[i]
	}
}

// addrsOf returns the addresses that A and AAAA records in rrs give name.
func addrsOf(rrs []dns.RR, name string) []netip.Addr {
	return appendAddrsOf(nil, rrs, name)
}

// appendAddrsOf is addrsOf appending to out.
func appendAddrsOf(out []netip.Addr, rrs []dns.RR, name string) []netip.Addr {
	for _, rr := range rrs {
		if !strings.EqualFold(rr.Header().Name, name) {
			continue
		}
		switch rr := rr.(type) {
		case *dns.A:
			if a, ok := netip.AddrFromSlice(rr.A.To4()); ok {
				out = append(out, a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(rr.AAAA.To16()); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// parent returns the name with its first label removed; "." for a TLD.
func parent(name string) string {
	i, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[i:]
}
