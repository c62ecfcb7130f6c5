package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/cache"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/transport"
)

// This file joins the resolver to its Validator (package
// resolver/validate): the fetch function that gets DNSSEC records from
// the authoritative servers, what a verdict does to a result, and the CD
// bit's unchecked path.

// cdFlightClass keys the in-flight merge of CD (checking disabled)
// queries apart from validated ones: the two must not share a result.
const cdFlightClass = 0xff00

// maxFetchReferrals bounds the referrals one validation fetch follows
// from the closest cached zone cut down to the name's zone.
const maxFetchReferrals = 2 * maxDepth

// errFetchLimit is returned when a fetch would exceed the client query's
// upstream send budget (maxSendsPerQuery).
var errFetchLimit = errors.New("resolver: upstream query limit reached while validating")

// validated runs the Validator on res and applies its verdict: a Secure
// answer is replaced by the validated records (served with AD); a Bogus
// one becomes SERVFAIL with the verdict's EDE; Insecure and Indeterminate
// ones are served as resolved, with an EDE when the verdict has one (27,
// say).
func (r *Resolver) validated(ctx context.Context, q dns.Question, res Result, b *budget) Result {
	vd := r.cfg.Validator.Validate(ctx, q, r.dnssecFetch(b))
	res.Security = vd.Security
	switch vd.Security {
	case validate.Secure:
		res.Rcode, res.Answer, res.Authority = vd.Rcode, vd.Answer, vd.Authority
		res.Kind = kindOf(q, vd)
		r.learnNSEC(res)        // aggressive use, RFC 8198 (aggressive.go)
		r.learnWildcard(q, res) // RFC 8198 §5.4 (aggressive_wildcard.go)
	case validate.Bogus:
		ede := vd.EDE
		if ede == nil {
			ede = &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeDNSBogus, ExtraText: "bogus"}
		}
		return Result{Kind: KindServFail, Rcode: dns.RcodeServerFailure, EDE: ede, Trace: res.Trace, Security: validate.Bogus}
	default:
		if res.EDE == nil {
			res.EDE = vd.EDE
		}
		res.Answer = withSignatures(res.Answer, vd.Answer) // serve.go
	}
	return res
}

// kindOf classifies a Secure verdict's answer to q.
func kindOf(q dns.Question, vd validate.Verdict) Kind {
	switch {
	case vd.Rcode == dns.RcodeNameError:
		return KindNXDomain
	}
	for _, rr := range vd.Answer {
		if rr.Header().Rrtype == q.Qtype || q.Qtype == dns.TypeANY {
			return KindAnswer
		}
	}
	return KindNoData
}

// forClient returns rrs for the client of req: as they are when it set
// DO, else without the DNSSEC records a validated answer carries (RRSIG,
// NSEC, NSEC3), unless they are the type it asked for (RFC 4035 §3.2.1).
func forClient(rrs []dns.RR, req *dns.Msg) []dns.RR {
	if opt := req.IsEdns0(); opt != nil && opt.Do() {
		return rrs
	}
	var out []dns.RR
	for _, rr := range rrs {
		switch t := rr.Header().Rrtype; t {
		case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
			if len(req.Question) == 1 && req.Question[0].Qtype == t {
				out = append(out, rr)
			}
		default:
			out = append(out, rr)
		}
	}
	return out
}

// wantsAD reports whether a client asked for the AD bit: it sent DO or
// AD (RFC 6840 §5.8), and not CD.
func wantsAD(req *dns.Msg) bool {
	if req.CheckingDisabled {
		return false
	}
	opt := req.IsEdns0()
	return req.AuthenticatedData || opt != nil && opt.Do()
}

// resolveUnchecked resolves a query with the CD bit: through the failure
// cache and the in-flight merge, without validation (RFC 4035 §3.2.2).
func (r *Resolver) resolveUnchecked(ctx context.Context, q dns.Question) Result {
	if res, ok := r.failed.get(q); ok {
		return r.staleOr(q, res)
	}
	res, err := r.flight.do(ctx, q.Name, q.Qtype, cdFlightClass, func(ctx context.Context) Result {
		return r.resolveChecked(ctx, q, r.cfg.Trace != nil, true)
	})
	if err != nil {
		return Result{Kind: KindServFail, Rcode: dns.RcodeServerFailure,
			EDE: &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeOther, ExtraText: err.Error()}}
	}
	return res
}

// resolveSigned answers a query with CD and DO: a validating client (a
// forwarder validating for itself) wants the data unchecked but with its
// signatures and denial records (RFC 4035 §3.2.2), which the cache does
// not keep. The resolution runs as for CD, warming the delegations and
// giving the outcome; then the question's own zone is asked with DO and
// its reply is served as it came, not cached. A chain that leaves that
// zone ends at its first link there; the client follows it.
func (r *Resolver) resolveSigned(ctx context.Context, q dns.Question) Result {
	res := r.resolveUnchecked(ctx, q)
	if res.Kind == KindServFail {
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, r.queryTime)
	defer cancel()
	reply, err := r.fetchDNSSEC(ctx, &budget{active: map[qkey]bool{}}, dns.CanonicalName(q.Name), q.Qtype)
	if err != nil || (reply.Rcode != dns.RcodeSuccess && reply.Rcode != dns.RcodeNameError) {
		return res // the unsigned data is still the answer
	}
	out := Result{Kind: KindNoData, Rcode: reply.Rcode, Trace: res.Trace}
	for _, rr := range reply.Answer {
		if h := rr.Header(); h.Rrtype == q.Qtype && strings.EqualFold(h.Name, q.Name) {
			out.Kind = KindAnswer
		}
		out.Answer = append(out.Answer, rr)
	}
	for _, rr := range reply.Ns {
		if rr.Header().Rrtype != dns.TypeNS {
			out.Authority = append(out.Authority, rr)
		}
	}
	if reply.Rcode == dns.RcodeNameError {
		out.Kind = KindNXDomain
	}
	return out
}

// dnssecFetch returns the Validator's fetch function for one client
// query: sends count against b, like the resolution's own.
func (r *Resolver) dnssecFetch(b *budget) validate.Fetch {
	return func(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
		return r.fetchDNSSEC(ctx, b, dns.CanonicalName(name), qtype)
	}
}

// fetchDNSSEC returns the reply to name and qtype that the resolution got
// with DO set, or else asks the servers of name's zone (its parent's for
// DS) for them with DO: it starts at the closest cached zone cut,
// which the resolution just walked, and follows referrals from there. In
// forwarding mode it asks the upstreams instead (forward.go).
func (r *Resolver) fetchDNSSEC(ctx context.Context, b *budget, name string, qtype uint16) (*dns.Msg, error) {
	if m, ok := b.forwarded[qkey{name, qtype}]; ok {
		// The resolution asked this question with DO already
		// (keepSigned in send.go, forward in forward.go).
		if r.fwd != nil {
			return m.Copy(), nil
		}
		// Iterating, the reply is handed over as it is, not copied (a
		// copy per validated cache miss): it belongs to this client
		// query, the resolution is done with it (scrub cached copies of
		// its records), and the validator only reads it; the verdict
		// holds its records as it would a copy's.
		return m, nil
	}
	if m := r.signedFromCache(name, qtype); m != nil {
		return m, nil
	}
	if r.fwd != nil {
		return r.forwardFetch(ctx, b, name, qtype)
	}
	reply, err := r.fetchFrom(ctx, b, name, qtype, qtype)
	if err == nil && qtype == dns.TypeDS {
		if m := dsFromReferral(reply, name); m != nil {
			return m, nil // a DS query answered by a referral: its DS or denial
		}
	}
	if err != nil && qtype == dns.TypeDS {
		if m := b.referralDSFor(name); m != nil {
			return m, nil // reply.go: what the referral to name carried
		}
	}
	if err != nil && qtype == dns.TypeDS && name != "." && !errors.Is(err, errFetchLimit) && ctx.Err() == nil {
		// Some servers answer no DS query, but send the DS (or its
		// signed denial) with their referrals: ask for the name's NS.
		if ref, rerr := r.fetchFrom(ctx, b, name, dns.TypeDS, dns.TypeNS); rerr == nil {
			if m := dsFromReferral(ref, name); m != nil {
				return m, nil
			}
		}
	}
	return reply, err
}

// signedFromCache returns, as an authoritative reply, the cached RRset
// (name, qtype) with the RRSIGs cached beside it (keepSigs in send.go),
// or nil when either is missing or the signatures show a wildcard
// expansion, whose proof (the NSEC or NSEC3 that the name itself does
// not exist) is not cached with them. The validator verifies them as it
// would a fetched reply.
func (r *Resolver) signedFromCache(name string, qtype uint16) *dns.Msg {
	res := r.cache.Get(name, qtype, dns.ClassINET)
	if res.Kind != cache.Positive {
		return nil
	}
	sigs := r.cache.Sigs(name, qtype, dns.ClassINET, res.RRs)
	if len(sigs) == 0 {
		return nil
	}
	labels := dns.CountLabel(name)
	for _, rr := range sigs {
		if int(rr.(*dns.RRSIG).Labels) != labels {
			return nil
		}
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Response, m.Authoritative = true, true
	m.Answer = append(res.RRs, sigs...)
	return m
}

// dsFromReferral turns a referral for name into the reply to a DS query:
// the DS RRset (with RRSIGs) as the answer, or the referral's denial
// records as a NODATA. Nil when the reply is no referral for name.
func dsFromReferral(ref *dns.Msg, name string) *dns.Msg {
	hasNS := false
	for _, rr := range ref.Ns {
		if rr.Header().Rrtype == dns.TypeNS && dns.CanonicalName(rr.Header().Name) == name {
			hasNS = true
		}
	}
	if !hasNS || len(ref.Answer) > 0 {
		return nil
	}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeDS)
	m.Response, m.Authoritative = true, true
	for _, rr := range ref.Ns {
		h := rr.Header()
		isDS := h.Rrtype == dns.TypeDS || h.Rrtype == dns.TypeRRSIG && rr.(*dns.RRSIG).TypeCovered == dns.TypeDS
		switch {
		case isDS && dns.CanonicalName(h.Name) == name:
			m.Answer = append(m.Answer, rr)
		case h.Rrtype != dns.TypeNS:
			m.Ns = append(m.Ns, rr)
		}
	}
	return m
}

// fetchFrom asks the servers of the zone holding name and qtype (the
// parent's for DS) for name and ask, following referrals from the
// closest cached zone cut.
func (r *Resolver) fetchFrom(ctx context.Context, b *budget, name string, qtype, ask uint16) (*dns.Msg, error) {
	q := r.newQuery(b, name, qtype, dns.ClassINET, 1)
	q.findDelegation()
	for range maxFetchReferrals {
		reply, err := r.askDO(ctx, q, name, ask)
		if err != nil {
			return nil, err
		}
		zone, ns, ok := referralIn(reply, q.zone, name, qtype)
		if !ok {
			return reply, nil
		}
		q.setZone(zone, ns, reply.Extra)
	}
	return nil, fmt.Errorf("resolver: more than %d referrals fetching %s %s", maxFetchReferrals, name, dns.TypeToString[qtype])
}

// referralIn returns the zone cut a reply from zone refers to for name,
// when it is a referral: no answer, not authoritative, NS records for a
// zone below zone and at or above name (for DS, above name).
func referralIn(reply *dns.Msg, zone, name string, qtype uint16) (string, []*dns.NS, bool) {
	if len(reply.Answer) > 0 || reply.Rcode != dns.RcodeSuccess || reply.Authoritative {
		return "", nil, false
	}
	var ns []*dns.NS
	cut := ""
	for _, rr := range reply.Ns {
		n, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		owner := dns.CanonicalName(n.Hdr.Name)
		if owner == zone || !dns.IsSubDomain(zone, owner) || !dns.IsSubDomain(owner, name) ||
			qtype == dns.TypeDS && owner == name || cut != "" && owner != cut {
			continue
		}
		cut = owner
		ns = append(ns, n)
	}
	return cut, ns, cut != ""
}

// askDO sends name and qtype with DO set to the servers of q.zone in
// turn until one gives a reply that is not SERVFAIL or REFUSED. A
// truncated UDP reply is asked again over TCP; glueless servers get their
// addresses from a sub-resolution.
func (r *Resolver) askDO(ctx context.Context, q *query, name string, qtype uint16) (*dns.Msg, error) {
	var last error = fmt.Errorf("resolver: no server for %s", q.zone)
	for _, s := range q.servers {
		if len(s.addrs) == 0 && !s.fetched && q.depth < maxDepth {
			s.fetched = true
			sub := r.newQuery(q.b, s.name, dns.TypeA, dns.ClassINET, q.depth+1).run(ctx)
			s.addrs = q.usable(addrsOf(sub.Answer, s.name))
		}
		for _, a := range s.addrs {
			reply, err := r.exchangeDO(ctx, q.b, a, name, qtype)
			if err != nil {
				last = err
				if errors.Is(err, errFetchLimit) || ctx.Err() != nil {
					return nil, err
				}
				continue
			}
			if reply.Rcode == dns.RcodeServerFailure || reply.Rcode == dns.RcodeRefused {
				last = fmt.Errorf("resolver: %s from %s", dns.RcodeToString[reply.Rcode], a)
				continue
			}
			return reply, nil
		}
	}
	return nil, last
}

// exchangeDO makes one exchange with server, over TCP when the UDP reply
// is truncated, and checks that the reply answers the question.
func (r *Resolver) exchangeDO(ctx context.Context, b *budget, server netip.Addr, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	m.SetEdns0(udpSize, true)
	for _, tcp := range []bool{false, true} {
		if b.sends >= maxSendsPerQuery {
			return nil, errFetchLimit
		}
		b.sends++
		actx, cancel := r.attemptContext(ctx)
		reply, err := r.cfg.Exchange(actx, netip.AddrPortFrom(server, 53), m, tcp)
		cancel()
		switch {
		case err != nil:
			return nil, err
		case !sameQuestion(m, reply):
			return nil, transport.ErrMismatch
		case !reply.Truncated:
			return reply, nil
		}
	}
	return nil, fmt.Errorf("resolver: truncated reply over TCP from %s", server)
}

// Fetch returns a validate.Fetch over the resolver's delegations and
// cache, for tools that drive a Validator themselves ("rensa chain"). Its
// sends are bounded as one client query's.
func (r *Resolver) Fetch() validate.Fetch {
	return r.dnssecFetch(&budget{active: map[qkey]bool{}})
}
