package resolver

import (
	"context"
	"net/netip"
	"slices"

	"github.com/miekg/dns"
)

// pickServer chooses the server of the zone with the lowest smoothed RTT
// among those not lame for the zone and not yet failed maxTriesPerServer
// times. When none is left it looks up the address of an NS name that has
// none, within the NXNSAttack bounds; when that is not possible either,
// the resolution fails with EDE 22 (No Reachable Authority).
func (q *query) pickServer(ctx context.Context) {
	var best netip.Addr
	bestRTT := maxQueryTime
	for _, s := range q.servers {
		for _, a := range s.addrs {
			if q.failures[a] >= maxTriesPerServer || q.r.infra.Lame(a, q.zone) {
				continue
			}
			if rtt := q.r.infra.RTT(a); !best.IsValid() || rtt < bestRTT {
				best, bestRTT = a, rtt
			}
		}
	}
	if best.IsValid() {
		q.server, q.useTCP, q.caseOff = best, false, false
		q.to(stepSend, "")
		return
	}
	q.fetchTarget(ctx)
}

// fetchTarget looks up the address of one NS name of the zone that has
// none yet (a glueless delegation). NXNSAttack (CVE-2020-12662) bounds:
// at most targetFetches[depth] lookups per zone, maxFailedTargets failed
// lookups per client query, and sub-queries no deeper than maxDepth.
func (q *query) fetchTarget(ctx context.Context) {
	var s *nsServer
	for _, c := range q.servers {
		if len(c.addrs) == 0 && !c.fetched {
			s = c
			break
		}
	}
	if s == nil && q.addParentSide() {
		q.to(stepPickServer, "trying the parent-side addresses of the NS names")
		return
	}
	switch {
	case s == nil && q.gotEmpty:
		q.finish(KindNoData, dns.RcodeSuccess, nil, nil) // not cached: no SOA
		return
	case s == nil:
		q.fail(dns.ExtendedErrorCodeNoReachableAuthority, "no server of %s answered", q.zone)
		return
	case q.depth+1 > maxDepth:
		q.fail(dns.ExtendedErrorCodeNoReachableAuthority, "NS addresses of %s need more than %d nested lookups", q.zone, maxDepth)
		return
	case q.fetches >= targetFetches[q.depth]:
		q.fail(dns.ExtendedErrorCodeNoReachableAuthority, "NS address lookups for %s exhausted (%d at depth %d)", q.zone, targetFetches[q.depth], q.depth)
		return
	case q.b.failedTargets >= maxFailedTargets:
		q.fail(dns.ExtendedErrorCodeNoReachableAuthority, "%d NS address lookups failed", maxFailedTargets)
		return
	}
	s.fetched = true
	q.fetches++
	s.addrs = q.lookupAddrs(ctx, s.name)
	if len(s.addrs) == 0 {
		q.b.failedTargets++
		// The lookup may have cached the parent's glue for the name.
		s.addrs = q.cachedAddrs(s.name)
	}
	q.to(stepPickServer, "looked up %s: %d addresses", s.name, len(s.addrs))
}

// lookupAddrs resolves name's A records in a sub-query sharing the
// budget, and its AAAA records when it has no A. A name already being
// resolved by this client query is a cyclic dependency and gets no
// addresses.
func (q *query) lookupAddrs(ctx context.Context, name string) []netip.Addr {
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if qtype == dns.TypeAAAA && q.r.cfg.NoIPv6 {
			break
		}
		if q.b.active[qkey{dns.CanonicalName(name), qtype}] {
			q.to(stepPickServer, "cyclic dependency: %s is already being resolved", name)
			return nil
		}
		sub := q.r.newQuery(q.b, name, qtype, dns.ClassINET, q.depth+1)
		res := sub.run(ctx)
		if res.Kind == KindServFail {
			return nil
		}
		var out []netip.Addr
		// The owner is the end of the chain when the name is an alias.
		for _, rr := range res.Answer {
			if rr.Header().Rrtype == qtype {
				out = append(out, addrsOf([]dns.RR{rr}, rr.Header().Name)...)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// addParentSide adds, once per zone, the glue addresses the parents gave
// for the zone's NS names where the child's own answer differed (Unbound's
// parent-side fallback: a child may publish broken addresses for its own
// servers). It reports whether any address was new.
func (q *query) addParentSide() bool {
	if q.triedGlue {
		return false
	}
	q.triedGlue = true
	added := false
	for _, s := range q.servers {
		for _, a := range q.parentSideAddrs(s.name) {
			if !slices.Contains(s.addrs, a) {
				s.addrs = append(s.addrs, a)
				added = true
			}
		}
	}
	return added
}
