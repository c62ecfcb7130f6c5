package resolver

import (
	"context"
	"errors"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/resolver/cache"
	"github.com/rensa-dns/rensa/internal/transport"
)

// send asks q.server for the name to send (minimised or full) within the
// send budgets, and moves to stepReply with a reply whose question echoes
// ours exactly. A server that does not echo the 0x20 case loses 0x20; a
// truncated reply is asked again over TCP; other failures count against
// the server and go back to stepPickServer.
func (q *query) send(ctx context.Context) {
	switch {
	case ctx.Err() != nil:
		q.fail(dns.ExtendedErrorCodeNoReachableAuthority, "no answer within %v", q.r.queryTime)
		return
	case q.b.sends >= maxSendsPerQuery:
		q.fail(dns.ExtendedErrorCodeOther, "upstream query limit of %d per client query reached", maxSendsPerQuery)
		return
	case q.sends >= maxSendsPerName:
		q.fail(dns.ExtendedErrorCodeOther, "upstream query limit of %d for %s reached", maxSendsPerName, q.qname)
		return
	}
	q.b.sends++
	q.sends++
	m, plain, randomised := q.buildQuery()
	actx, cancel := q.r.attemptContext(ctx)
	start := q.r.cfg.Now()
	reply, err := q.r.cfg.Exchange(actx, netip.AddrPortFrom(q.server, 53), m, q.useTCP)
	cancel()
	if err == nil && !sameQuestion(m, reply) {
		err = transport.ErrMismatch
	}
	if err == nil {
		err = q.r.checkCookie(reply, q.server)
	}
	switch {
	case err != nil && randomised && errors.Is(err, transport.ErrMismatch):
		// Perhaps the server does not echo the case (draft-vixie-
		// dnsext-dns0x20). Ask once more without 0x20; only if that
		// works is 0x20 turned off for the server, so forged or lost
		// replies cannot switch the defence off.
		q.caseOff = true
		q.to(stepSend, "no matching reply from %s: trying without 0x20", q.server)
	case err != nil:
		q.r.infra.Timeout(q.server)
		q.setFailures(q.server, q.failures[q.server]+1)
		q.r.cfg.Logger.Debug("upstream failed", "server", q.server, "name", m.Question[0].Name, "err", err)
		q.to(stepPickServer, "%v", err)
	case reply.Truncated && !q.useTCP:
		q.useTCP = true
		q.to(stepSend, "truncated: again over TCP")
	default:
		if q.caseOff && !q.r.cfg.No0x20 {
			q.r.infra.SetNoCase(q.server)
		}
		q.r.infra.Success(q.server, q.r.cfg.Now().Sub(start))
		if randomised {
			restoreCase(reply, m.Question[0].Name, plain)
		}
		q.keepSigned(m, reply)
		q.sent, q.reply = m, reply
		if !q.b.tracing {
			q.st = stepReply // every upstream reply passes here: no note to box
			return
		}
		q.to(stepReply, "asked %s %s: %s from %s", m.Question[0].Name,
			dns.TypeToString[m.Question[0].Qtype], dns.RcodeToString[reply.Rcode], q.server)
	}
}

// attemptContext bounds one upstream exchange by the attempt time. The
// default exchanges bound every attempt themselves, by attemptTimeout
// (socket deadlines), so with them ctx is used as it is: a context per
// upstream query, with its timer and its entry in the parent's children,
// was a tenth of the bytes the cold path allocated. Tests that shorten
// the attempt time, or bring their own exchange, get the context.
func (r *Resolver) attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.ownExchange && r.attemptTime == attemptTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.attemptTime)
}

// buildQuery makes the upstream query: the minimised or full name, in
// random case unless the server cannot take it, RD clear, EDNS unless the
// server mishandles it. It returns the name before randomisation and
// whether the case was randomised.
func (q *query) buildQuery() (*dns.Msg, string, bool) {
	plain, qtype := q.sendName()
	name := plain
	randomised := !q.r.cfg.No0x20 && !q.caseOff && !q.r.infra.NoCase(q.server)
	if randomised {
		name = q.randomCase(plain)
	}
	u := new(upstreamQuery)
	m := &u.msg
	m.Id = dns.Id() // Exchange sends its own random ID; this one is for in-memory exchanges
	u.question[0] = dns.Question{Name: name, Qtype: qtype, Qclass: q.qclass}
	m.Question = u.question[:]
	if !q.r.infra.NoEDNS(q.server) {
		// With a Validator every query carries DO, so that the reply
		// holds the signatures and denial records the validator needs
		// (keepSigned): one upstream query per name, as Unbound asks.
		u.opt.Hdr = dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}
		u.opt.SetUDPSize(udpSize)
		if q.r.cfg.Validator != nil {
			u.opt.SetDo()
		}
		u.extra[0] = &u.opt
		m.Extra = u.extra[:]
		q.r.addCookie(m, q.server)
	}
	return m, plain, randomised
}

// upstreamQuery is the message buildQuery makes, with its question
// section and OPT record, in one allocation rather than four (message,
// question slice, OPT record, additional section): the same message
// m.SetQuestion and m.SetEdns0 make, RD clear. Nothing appends to its
// sections in place: their capacity is their length.
type upstreamQuery struct {
	msg      dns.Msg
	question [1]dns.Question
	extra    [1]dns.RR
	opt      dns.OPT
}

// sendName returns the name and type to ask: with QNAME minimisation
// (RFC 9156) one label more than the zone asked, with type A as its §3
// suggests (some servers mishandle NS queries), until the full name is
// reached, minimisation was abandoned, or maxMinimise queries were spent.
// Names the cache already shows to be no zone cut are not asked again
// (skipKnownNonCuts).
func (q *query) sendName() (string, uint16) {
	labels := dns.CountLabel(q.qname)
	if q.r.cfg.NoQNAMEMinimisation || q.noMin || q.minCount >= maxMinimise {
		return q.qname, q.qtype
	}
	q.skipKnownNonCuts(labels)
	if q.minLabels >= labels {
		return q.qname, q.qtype
	}
	return lastLabels(q.qname, q.minLabels), dns.TypeA
}

// skipKnownNonCuts moves the minimisation past names that the cache holds
// an A RRset or a NODATA for: a server authoritative for them answered,
// so they are no zone cut, and asking them again would only repeat the
// answer. Unbound skips them the same way. Without this every name under
// wild.example.test. costs two upstream queries, one of them always
// "wild.example.test. A" (labels is q.qname's label count).
func (q *query) skipKnownNonCuts(labels int) {
	for q.minLabels < labels {
		switch q.r.cache.Peek(lastLabels(q.qname, q.minLabels), dns.TypeA, q.qclass) {
		case cache.Positive, cache.NoData:
			q.minLabels++
		default:
			return
		}
	}
}

// rememberNoCut caches what a minimised query (type A) met when it found
// no zone cut: its A RRset or its NODATA, with the SOA. Both are answers
// of a server authoritative for the name, cached like any other, and
// they tell later queries (skipKnownNonCuts) that the name is no cut.
func (q *query) rememberNoCut(c classified) {
	switch {
	case len(c.chain) > 0:
		// An alias: the name is no cut either, but the next query
		// goes on with the full name anyway.
	case c.kind == replyAnswer:
		q.store(c)
	case c.kind == replyNoData && c.soa != nil:
		q.r.cache.PutNegative(c.target, dns.TypeA, q.qclass, c.soa, q.rank(cache.RankAuthorityAuth))
	}
}

// keepSigned keeps, with a Validator, what a reply asked with DO holds
// for validation. The reply to a full (not minimised) query is kept for
// the validator's fetch of the same question in this client query
// (fetchDNSSEC): it already holds the RRSIGs and the NSEC or NSEC3
// records, and asking again would double the upstream queries of every
// validated cache miss. The RRSIGs of its answer section go to the cache
// beside the RRsets they sign (keepSigs), for later client queries that
// reach those RRsets from the cache.
func (q *query) keepSigned(m, reply *dns.Msg) {
	if q.r.cfg.Validator == nil || reply.Truncated {
		return
	}
	opt := m.IsEdns0()
	if opt == nil || !opt.Do() {
		return
	}
	q.keepSigs(reply)
	if dns.CountLabel(m.Question[0].Name) != dns.CountLabel(q.qname) || m.Question[0].Qtype != q.qtype {
		return
	}
	if q.b.forwarded == nil {
		q.b.forwarded = map[qkey]*dns.Msg{}
	}
	q.b.forwarded[qkey{q.qname, q.qtype}] = reply
}

// keepSigs caches the RRSIGs of an authoritative reply's answer section
// that q.zone's servers may speak for (the bailiwick rule of scrub), one
// set per owner and covered type. They are trusted by nothing until the
// validator verifies them.
func (q *query) keepSigs(reply *dns.Msg) {
	if !reply.Authoritative {
		return
	}
	type set struct {
		owner   string
		covered uint16
	}
	var sets map[set][]*dns.RRSIG
	for _, rr := range reply.Answer {
		sig, ok := rr.(*dns.RRSIG)
		if !ok || !dnsname.IsSubdomain(dns.CanonicalName(sig.Hdr.Name), q.zone) {
			continue
		}
		if sets == nil {
			sets = map[set][]*dns.RRSIG{}
		}
		k := set{dns.CanonicalName(sig.Hdr.Name), sig.TypeCovered}
		sets[k] = append(sets[k], sig)
	}
	for k, sigs := range sets {
		var data []dns.RR
		for _, rr := range reply.Answer {
			if h := rr.Header(); h.Rrtype == k.covered && dns.CanonicalName(h.Name) == k.owner {
				data = append(data, rr)
			}
		}
		if len(data) > 0 {
			q.r.cache.PutSigs(sigs, data) // a refused set (too many) is only not kept
		}
	}
}

// minimised reports whether the query sent was for a shortened name.
func (q *query) minimised() bool {
	return dns.CountLabel(q.sent.Question[0].Name) < dns.CountLabel(q.qname)
}

// randomCase flips the case of each letter of name at random (0x20): one
// more thing a blind spoofer must guess (draft-vixie-dnsext-dns0x20).
func (q *query) randomCase(name string) string {
	return randomCase(q.r.cfg.Rand, name)
}

// sameQuestion reports whether reply answers exactly the question of m,
// name case included.
func sameQuestion(m, reply *dns.Msg) bool {
	if reply == nil || !reply.Response || len(reply.Question) != 1 {
		return false
	}
	a, b := m.Question[0], reply.Question[0]
	return a.Name == b.Name && a.Qtype == b.Qtype && a.Qclass == b.Qclass
}
