package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/transport"
)

// This file is the forwarding mode (Config.Forward): instead of walking
// the delegations from the root, the resolver asks upstream resolvers
// (over Do53, DoT, DoH or DoQ) for each name of a client query, and for
// the DNSSEC records its Validator fetches. The answers are cached with
// the rank of non-authoritative data, and validation stays the
// resolver's own: with a Validator every forwarded query carries DO and
// CD, so the upstream hands over signatures and does not hide Bogus data
// behind its own SERVFAIL (Unbound's forward-zone with its validator on).

// Upstream is one resolver a forwarding [Resolver] asks.
type Upstream struct {
	// Name identifies the upstream in traces and logs, such as
	// "tls://127.0.0.1:853".
	Name string
	// Exchanger carries the queries. Its replies must echo the
	// question; their IDs do not matter (DoH and DoQ send 0).
	Exchanger transport.Exchanger

	// Plain is the address of an upstream reached over plain DNS
	// (Do53); ParseUpstream sets it. Such an upstream can be forged as
	// an authoritative server can, so its queries get the defences of
	// iteration besides the random ID and port: 0x20 case randomisation
	// (off for an upstream shown not to echo the case) and DNS cookies,
	// a reply with the wrong case or client cookie being dropped. Zero
	// for encrypted upstreams: TLS and QUIC authenticate the channel.
	Plain netip.AddrPort
}

// forwarders holds the upstreams and their smoothed RTTs, by which they
// are tried (the fastest first; one that failed is penalised, so the
// others are tried before it until it answers again).
type forwarders struct {
	ups      []Upstream
	mu       sync.Mutex
	srtt     []time.Duration // guarded by mu; 0 until first measured
	caseless []bool          // guarded by mu; plain upstreams that do not echo 0x20
}

func newForwarders(ups []Upstream) *forwarders {
	if len(ups) == 0 {
		return nil
	}
	return &forwarders{ups: ups, srtt: make([]time.Duration, len(ups)), caseless: make([]bool, len(ups))}
}

// noCase reports whether upstream i was found not to echo the case of
// the question, so that 0x20 is off for it.
func (f *forwarders) noCase(i int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.caseless[i]
}

// setNoCase turns 0x20 off for upstream i.
func (f *forwarders) setNoCase(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.caseless[i] = true
}

// order returns the upstream indexes, lowest smoothed RTT first, ties in
// configuration order.
func (f *forwarders) order() []int {
	idx := make([]int, len(f.ups))
	for i := range idx {
		idx[i] = i
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	slices.SortStableFunc(idx, func(a, b int) int { return int(f.srtt[a] - f.srtt[b]) })
	return idx
}

// observe records an exchange with upstream i: its RTT, or a failure,
// which counts as a timeout (RFC 6298 style smoothing, as the infra cache).
func (f *forwarders) observe(i int, rtt time.Duration, failed bool) {
	if failed {
		rtt = attemptTimeout
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.srtt[i] == 0:
		f.srtt[i] = rtt
	case failed:
		f.srtt[i] = min(2*f.srtt[i]+rtt, maxQueryTime)
	default:
		f.srtt[i] = (7*f.srtt[i] + rtt) / 8
	}
}

// errNoUpstream is returned when no upstream gave a usable reply.
var errNoUpstream = errors.New("resolver: no upstream answered")

// exchangeUpstream asks the upstreams, fastest first, for name and
// qtype with RD set (and DO and CD when the resolver validates), until
// one gives a reply that is not SERVFAIL or REFUSED. Each try counts
// against the client query's budget. The reply's question is checked.
func (r *Resolver) exchangeUpstream(ctx context.Context, b *budget, name string, qtype uint16) (*dns.Msg, string, error) {
	last := fmt.Errorf("%w for %s %s", errNoUpstream, name, dns.TypeToString[qtype])
	for _, i := range r.fwd.order() {
		if b.sends >= maxSendsPerQuery {
			return nil, "", errFetchLimit
		}
		b.sends++
		up := r.fwd.ups[i]
		start := r.cfg.Now()
		reply, err := r.askUpstream(ctx, i, name, qtype, !r.cfg.No0x20 && !r.fwd.noCase(i))
		if errors.Is(err, errCaseNotEchoed) && b.sends < maxSendsPerQuery {
			// As in iteration (send.go): once more without 0x20, and
			// only if that works is 0x20 turned off for the upstream,
			// so forged or lost replies cannot switch the defence off.
			b.sends++
			if reply, err = r.askUpstream(ctx, i, name, qtype, false); err == nil {
				r.fwd.setNoCase(i)
				r.cfg.Logger.Info("upstream does not echo the case of names: 0x20 off for it", "upstream", up.Name)
			}
		}
		if err == nil && (reply.Rcode == dns.RcodeServerFailure || reply.Rcode == dns.RcodeRefused) {
			err = fmt.Errorf("resolver: %s from %s", dns.RcodeToString[reply.Rcode], up.Name)
		}
		r.fwd.observe(i, r.cfg.Now().Sub(start), err != nil)
		if err != nil {
			r.cfg.Logger.Debug("upstream failed", "upstream", up.Name, "name", name, "err", err)
			last = fmt.Errorf("%w: %s: %w", errNoUpstream, up.Name, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		return reply, up.Name, nil
	}
	return nil, "", last
}

// errCaseNotEchoed is askUpstream's error for a reply that matched the
// question but for the case of its name: a forger's guess, or an
// upstream that does not echo 0x20.
var errCaseNotEchoed = fmt.Errorf("%w: question case not echoed (0x20)", transport.ErrMismatch)

// askUpstream sends one query for name and qtype to upstream i, with RD
// (and DO and CD when the resolver validates), and checks the reply's
// question. A plain-DNS upstream also gets its client cookie, checked in
// the reply, and, when mixCase, the name in random case, which the reply
// must echo byte for byte; the reply's names get the plain case back.
func (r *Resolver) askUpstream(ctx context.Context, i int, name string, qtype uint16, mixCase bool) (*dns.Msg, error) {
	up := r.fwd.ups[i]
	plain := up.Plain.IsValid()
	sent := name
	if plain && mixCase {
		sent = randomCase(r.cfg.Rand, name)
	}
	m := new(dns.Msg)
	m.SetQuestion(sent, qtype)
	m.RecursionDesired = true
	validating := r.cfg.Validator != nil
	m.SetEdns0(udpSize, validating)
	m.CheckingDisabled = validating
	if plain {
		r.addCookie(m, up.Plain.Addr())
	}
	actx, cancel := context.WithTimeout(ctx, r.attemptTime)
	reply, err := up.Exchanger.Exchange(actx, m)
	cancel()
	switch {
	case err != nil:
		return nil, err
	case !sameQuestion(m, reply):
		if sent != name && reply.Response && len(reply.Question) == 1 && strings.EqualFold(reply.Question[0].Name, sent) {
			return nil, errCaseNotEchoed
		}
		return nil, transport.ErrMismatch
	}
	if plain {
		if err := r.checkCookie(reply, up.Plain.Addr()); err != nil {
			return nil, err
		}
	}
	restoreCase(reply, sent, name)
	return reply, nil
}

// forward is the state machine's step in forwarding mode: it asks the
// upstreams for the current name and acts on the reply, as stepReply
// does for an authoritative one, with the whole tree (".") as the
// bailiwick: a resolver answers for every name.
func (q *query) forward(ctx context.Context) {
	switch {
	case ctx.Err() != nil:
		q.fail(dns.ExtendedErrorCodeNoReachableAuthority, "no answer within %v", q.r.queryTime)
		return
	case q.sends >= maxSendsPerName:
		q.fail(dns.ExtendedErrorCodeOther, "upstream query limit of %d for %s reached", maxSendsPerName, q.qname)
		return
	}
	q.sends++
	q.zone = "."
	reply, up, err := q.r.exchangeUpstream(ctx, q.b, q.qname, q.qtype)
	switch {
	case errors.Is(err, errFetchLimit):
		q.fail(dns.ExtendedErrorCodeOther, "upstream query limit of %d per client query reached", maxSendsPerQuery)
		return
	case err != nil:
		q.fail(dns.ExtendedErrorCodeNoReachableAuthority, "%v", err)
		return
	}
	if q.r.cfg.Validator != nil {
		if q.b.forwarded == nil {
			q.b.forwarded = map[qkey]*dns.Msg{}
		}
		q.b.forwarded[qkey{q.qname, q.qtype}] = reply
	}
	q.sent = new(dns.Msg)
	q.sent.SetQuestion(q.qname, q.qtype)
	q.reply = reply
	q.to(stepReply, "forwarded %s %s to %s: %s", q.qname, dns.TypeToString[q.qtype], up, dns.RcodeToString[reply.Rcode])
}

// forwardedReply classifies an upstream resolver's reply and ends the
// query with it, or follows a chain the upstream did not finish.
func (q *query) forwardedReply() {
	c := classify(".", q.sent, q.reply)
	switch {
	case c.kind == replyAnswer:
		q.store(c)
		if q.addChain(c.chain) {
			q.finish(KindAnswer, dns.RcodeSuccess, c.answer, nil)
		}
	case c.loop:
		q.fail(dns.ExtendedErrorCodeOther, "CNAME/DNAME loop in the upstream's reply")
	case len(c.chain) > 0 && c.kind != replyNXDomain && c.kind != replyNoData:
		// The upstream stopped short of the chain's end: ask for it.
		q.store(c)
		q.follow(c.chain, c.target)
	case c.kind == replyNXDomain, c.kind == replyNoData:
		q.negative(c)
	case c.empty:
		// A recursive resolver's empty NOERROR is NODATA it could not
		// prove with an SOA: believed, not cached.
		q.finish(KindNoData, dns.RcodeSuccess, nil, nil)
	default:
		q.fail(dns.ExtendedErrorCodeOther, "unusable reply from upstream (%s)", c.kind)
	}
}

// forwardFetch is the Validator's fetch in forwarding mode: the
// upstreams are asked for name and qtype with DO and CD; the reply to a
// question the resolution just forwarded is reused.
func (r *Resolver) forwardFetch(ctx context.Context, b *budget, name string, qtype uint16) (*dns.Msg, error) {
	if m, ok := b.forwarded[qkey{name, qtype}]; ok {
		return m.Copy(), nil
	}
	reply, _, err := r.exchangeUpstream(ctx, b, name, qtype)
	return reply, err
}
