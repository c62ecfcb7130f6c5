package resolver

import (
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/cache"
)

// handleReply acts on a reply: EDNS fallback, then classify and switch.
// A minimised query (RFC 9156) that meets no zone cut goes one label
// deeper; one that meets NXDOMAIN, a CNAME or an error is repeated with
// the full name (the relaxed mode: some servers answer empty
// non-terminals wrongly).
func (q *query) handleReply() {
	if q.r.fwd != nil {
		q.forwardedReply()
		return
	}
	if (q.reply.Rcode == dns.RcodeFormatError || q.reply.Rcode == dns.RcodeNotImplemented) &&
		q.sent.IsEdns0() != nil && !q.r.infra.NoEDNS(q.server) {
		q.r.infra.SetNoEDNS(q.server)
		q.to(stepSend, "%s to an EDNS query: again without EDNS", dns.RcodeToString[q.reply.Rcode])
		return
	}
	if q.reply.Rcode == dns.RcodeBadCookie && !q.badCookie {
		// RFC 7873 §5.3: the reply carried a fresh server cookie
		// (checkCookie learned it); ask once more with it.
		q.badCookie = true
		q.to(stepSend, "BADCOOKIE: again with the new server cookie")
		return
	}
	c := classify(q.zone, q.sent, q.reply)
	min := q.minimised()
	switch {
	case c.kind == replyReferral:
		q.referral(c)
	case min && (c.kind == replyAnswer || c.kind == replyNoData):
		q.rememberNoCut(c) // send.go
		q.minLabels++
		q.minCount++
		q.to(stepSend, "no zone cut at %s", c.target)
	case min:
		q.noMin = true
		q.to(stepSend, "%s for a minimised name: asking the full name", c.kind)
	case c.kind == replyAnswer:
		q.store(c)
		if q.addChain(c.chain) {
			q.finish(KindAnswer, dns.RcodeSuccess, c.answer, nil)
		}
	case c.kind == replyChain:
		q.store(c)
		q.follow(c.chain, c.target)
	case c.kind == replyNXDomain, c.kind == replyNoData:
		q.negative(c)
	case c.empty:
		// Perhaps the server is broken: ask another one; if none has
		// more to say, the empty reply stands as NODATA (servers.go).
		q.setFailures(q.server, maxTriesPerServer)
		q.gotEmpty = true
		q.to(stepPickServer, "empty reply from %s", q.server)
	default:
		// Lame for this query only: a forged reply that matches (the
		// Kaminsky reply, a spoofed REFUSED) must not make the real
		// server look lame to every later query.
		q.setFailures(q.server, maxTriesPerServer)
		q.to(stepPickServer, "lame: %s from %s", c.note, q.server)
	}
}

// referral stores the delegation the parent gave, the only way a
// delegation enters the cache, and moves to the child zone.
func (q *query) referral(c classified) {
	c.deleg = trimDelegation(c.deleg)
	if err := q.r.cache.PutDelegation(c.deleg); err != nil {
		q.setFailures(q.server, maxTriesPerServer)
		q.to(stepPickServer, "unusable referral: %v", err)
		return
	}
	q.keepReferralDS(c.deleg.Zone)
	q.setZone(c.deleg.Zone, c.deleg.NS, c.deleg.Glue)
	q.to(stepPickServer, "referral to %s", q.zone)
}

// keepReferralDS keeps the DS RRset of child, or the NSEC/NSEC3 records
// denying it, that the referral from q.zone carried, with their RRSIGs
// (what a server sends with a referral to a DO query, RFC 4035 §3.1.4):
// the Validator may need them when the parent's servers answer no DS
// query (Unbound takes the DS from the referral). Only records in the
// zone's bailiwick are kept; the Validator still proves them, so a forged
// record can make the answer Bogus, never Secure.
func (q *query) keepReferralDS(child string) {
	if q.r.cfg.Validator == nil || len(q.b.referralDS) >= maxReferralDS {
		return
	}
	ref := &dns.Msg{Ns: scrub(q.reply.Ns, q.zone)}
	m := dsFromReferral(ref, child) // validate_hook.go
	if m == nil || len(m.Answer) == 0 && len(m.Ns) == 0 {
		return
	}
	if q.b.referralDS == nil {
		q.b.referralDS = map[string]*dns.Msg{}
	}
	q.b.referralDS[child] = m
}

// referralDSFor returns the DS reply kept from a referral to name, nil
// when there is none.
func (b *budget) referralDSFor(name string) *dns.Msg {
	return b.referralDS[name]
}

// negative ends with NXDOMAIN or NODATA for the chain's target, caching
// the denial when its SOA came along (RFC 2308).
func (q *query) negative(c classified) {
	q.store(c)
	if !q.addChain(c.chain) {
		return
	}
	kind, rcode, qtype := KindNoData, dns.RcodeSuccess, q.qtype
	if c.kind == replyNXDomain {
		kind, rcode, qtype = KindNXDomain, dns.RcodeNameError, 0
	}
	if c.soa == nil {
		q.finish(kind, rcode, nil, nil)
		return
	}
	q.r.cache.PutNegative(c.target, qtype, q.qclass, c.soa, q.rank(cache.RankAuthorityAuth))
	// The SOA's TTL in the reply is the negative TTL (RFC 2308 §5), as
	// when it is served from the cache later.
	soa := dns.Copy(c.soa)
	soa.Header().Ttl = min(c.soa.Hdr.Ttl, c.soa.Minttl, uint32(cache.MaxNegativeTTL/time.Second))
	q.finish(kind, rcode, nil, []dns.RR{soa})
}

// store caches the chain links the server sent and the answer RRset.
// A cache refusal (a higher-ranked entry, an oversized set) is not an
// error for this query: its reply still carries what it learned.
func (q *query) store(c classified) {
	rank := q.rank(cache.RankAnswerAuth)
	for _, rr := range c.cache {
		q.r.cache.Put([]dns.RR{rr}, rank)
	}
	if len(c.answer) > 0 {
		q.r.cache.Put(c.answer, rank)
	}
}

// rank is the RFC 2181 rank of answer data in the reply: auth when the
// reply has AA, one step lower otherwise. An upstream resolver's reply
// (forwarding mode) is never authoritative, whatever its AA bit says.
func (q *query) rank(auth cache.Rank) cache.Rank {
	if q.reply.Authoritative && q.r.fwd == nil {
		return auth
	}
	return cache.RankAnswerNonAuth
}

// trimDelegation keeps the first maxNSNames NS names of d and their glue:
// the resolver never uses more (NXNSAttack), and a referral with hundreds
// of names must not make the parent look lame.
func trimDelegation(d cache.Delegation) cache.Delegation {
	if len(d.NS) <= maxNSNames {
		return d
	}
	out := cache.Delegation{Zone: d.Zone, NS: d.NS[:maxNSNames]}
	for _, rr := range d.Glue {
		for _, ns := range out.NS {
			if strings.EqualFold(ns.Ns, rr.Header().Name) {
				out.Glue = append(out.Glue, rr)
				break
			}
		}
	}
	return out
}
