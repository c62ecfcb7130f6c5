package resolver

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/cache"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
)

// Resolve resolves name and type iteratively from the root hints (or the
// cache), outside the in-flight merge and the access control, and returns
// the result with its full trace. It is the entry point for tools and
// tests; clients come in through ServeDNS.
func (r *Resolver) Resolve(ctx context.Context, name string, qtype uint16) Result {
	return r.resolve(ctx, dns.Question{Name: dns.Fqdn(name), Qtype: qtype, Qclass: dns.ClassINET}, true)
}

// resolve runs one client query's state machine within maxQueryTime, then
// the Validator unless the client set CD (unchecked; validate_hook.go).
func (r *Resolver) resolve(ctx context.Context, question dns.Question, tracing bool) Result {
	return r.resolveChecked(ctx, question, tracing, false)
}

func (r *Resolver) resolveChecked(ctx context.Context, question dns.Question, tracing, unchecked bool) Result {
	ctx, cancel := withQueryDeadline(ctx, r.queryTime) // no timer per query (querycontext.go)
	defer cancel()
	b := &budget{active: map[qkey]bool{}, tracing: tracing, hook: r.cfg.Trace}
	if !unchecked && r.cfg.Validator != nil {
		if res, ok := r.fromNSEC(question, b); ok {
			return res // RFC 8198: proven absent by cached NSEC records (aggressive.go)
		}
	}
	q := r.newQuery(b, question.Name, question.Qtype, question.Qclass, 0)
	res := q.run(ctx)
	res.Trace = b.trace
	if r.cfg.Validator != nil && res.Kind != KindServFail && !unchecked {
		if res = r.validated(ctx, question, res, b); res.Security == validate.Bogus {
			return res // bogus data is never served stale
		}
	}
	r.failed.record(question, res.Kind == KindServFail)
	if res.Kind == KindServFail {
		r.forgetWire(question)
	}
	return r.staleOr(question, res)
}

// staleOr returns res, or, when res is a failure and serve-stale is on,
// the expired data cached for the question (RFC 8767).
func (r *Resolver) staleOr(q dns.Question, res Result) Result {
	if res.Kind != KindServFail || r.cfg.ServeStale <= 0 || res.EDE == nil {
		return res
	}
	st := r.cache.GetStale(q.Name, q.Qtype, q.Qclass)
	out := Result{Trace: res.Trace, EDE: &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeStaleAnswer, ExtraText: "stale: " + res.EDE.ExtraText}}
	switch st.Kind {
	case cache.Positive:
		out.Kind, out.Rcode, out.Answer = KindAnswer, dns.RcodeSuccess, st.RRs
	case cache.NoData:
		out.Kind, out.Rcode, out.Authority = KindNoData, dns.RcodeSuccess, []dns.RR{st.SOA}
	case cache.NXDomain:
		out.Kind, out.Rcode, out.Authority = KindNXDomain, dns.RcodeNameError, []dns.RR{st.SOA}
		out.EDE.InfoCode = dns.ExtendedErrorCodeStaleNXDOMAINAnswer
	default:
		return res
	}
	return out
}

// ServeDNS answers a client's query. Clients outside Config.Allow get
// REFUSED with EDE 18 (Prohibited); queries that are not a standard
// query for one IN question with RD set get REFUSED, NOTIMP or FORMERR;
// everything else is resolved (merged with identical queries in flight)
// and answered with RA set, SERVFAIL carrying an Extended DNS Error when
// resolution failed. UDP replies are truncated to the client's EDNS size,
// at most 1232 octets.
func (r *Resolver) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = true
	resp.Authoritative = false
	var res Result
	fresh := false  // res's records belong to this reply alone (fromCache)
	direct := false // res came from fromCache: RawHandler may keep the reply
	var start time.Time
	if r.fast.Load() != nil {
		start = r.cfg.Now() // before the cache is read: fillWire counts TTLs down from here
	}
	switch {
	case !r.allowed(w.RemoteAddr()):
		res = Result{Kind: KindRefused, Rcode: dns.RcodeRefused,
			EDE: &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeProhibited, ExtraText: "recursion is not offered to this address"}}
	case req.Opcode != dns.OpcodeQuery:
		res = Result{Rcode: dns.RcodeNotImplemented}
	case len(req.Question) != 1:
		res = Result{Rcode: dns.RcodeFormatError}
	case !req.RecursionDesired, req.Question[0].Qclass != dns.ClassINET, isMeta(req.Question[0].Qtype):
		res = Result{Kind: KindRefused, Rcode: dns.RcodeRefused,
			EDE: &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeNotSupported, ExtraText: "only recursive IN queries are answered"}}
	default:
		if res, fresh, direct = r.fromCache(req); direct {
			break
		}
		ip := clientIP(w.RemoteAddr())
		if !r.pending.add(ip) {
			return // DNSBomb: too many replies pending for this address
		}
		if opt := req.IsEdns0(); req.CheckingDisabled && opt != nil && opt.Do() {
			res = r.resolveSigned(context.Background(), req.Question[0])
		} else if req.CheckingDisabled {
			res = r.resolveUnchecked(context.Background(), req.Question[0])
		} else {
			res = r.resolveShared(context.Background(), req.Question[0])
		}
		r.pending.done(ip)
	}
	resp.Rcode = res.Rcode
	resp.AuthenticatedData = wantsAD(req) && res.Security == validate.Secure
	if fresh {
		resp.Answer = clientSpelling(forClient(res.Answer, req), req)
		resp.Ns = forClient(res.Authority, req)
	} else {
		resp.Answer = copyAnswer(forClient(res.Answer, req), req)
		resp.Ns = copyRRs(forClient(res.Authority, req))
	}
	size := 512
	if opt := req.IsEdns0(); opt != nil {
		size = max(512, min(int(opt.UDPSize()), udpSize))
		o := new(dns.OPT)
		o.Hdr.Name, o.Hdr.Rrtype = ".", dns.TypeOPT
		o.SetUDPSize(udpSize)
		if res.EDE != nil {
			o.Option = append(o.Option, res.EDE)
		}
		resp.Extra = append(resp.Extra, o)
	}
	if overUDP(w) {
		resp.Truncate(size)
		if direct {
			r.fillWire(req, resp, start, res.Security)
		}
	}
	w.WriteMsg(resp)
}

// overUDP reports whether w answers a UDP query: its Network method (the
// server package's writers have one) or its local address says so.
func overUDP(w dns.ResponseWriter) bool {
	if nw, ok := w.(interface{ Network() string }); ok {
		return nw.Network() == "udp"
	}
	_, ok := w.LocalAddr().(*net.UDPAddr)
	return ok
}

// allowed reports whether addr is in Config.Allow.
func (r *Resolver) allowed(addr net.Addr) bool {
	ip := clientIP(addr)
	for _, p := range r.cfg.Allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// isMeta reports whether t is a transfer or obsolete meta type that a
// resolver does not answer.
func isMeta(t uint16) bool {
	switch t {
	case dns.TypeAXFR, dns.TypeIXFR, dns.TypeMAILA, dns.TypeMAILB, dns.TypeOPT:
		return true
	}
	return false
}

// copyAnswer copies rrs, giving records owned by the question's name the
// client's spelling of it (the result may be shared with other clients).
func copyAnswer(rrs []dns.RR, req *dns.Msg) []dns.RR {
	return clientSpelling(copyRRs(rrs), req)
}

// clientSpelling gives the records of rrs owned by the question's name
// the client's spelling of it, in place.
func clientSpelling(rrs []dns.RR, req *dns.Msg) []dns.RR {
	if len(req.Question) == 1 {
		for _, rr := range rrs {
			if h := rr.Header(); h.Name != req.Question[0].Name && strings.EqualFold(h.Name, req.Question[0].Name) {
				h.Name = req.Question[0].Name
			}
		}
	}
	return rrs
}

// fromCache answers req from the cache alone when it holds the answer to
// the question itself (an RRset, NODATA or NXDOMAIN): the hot path of a
// resolver, with no in-flight merge, deadline or budget, as nothing is
// asked upstream unless the Validator must fetch. fresh reports that the
// records are the cache's fresh copies, which the reply may own. A chain
// to follow, a remembered failure, a CD query with DO (resolveSigned), a
// traced resolver and a miss take the full path.
func (r *Resolver) fromCache(req *dns.Msg) (res Result, fresh, ok bool) {
	q := req.Question[0]
	opt := req.IsEdns0()
	if r.cfg.Trace != nil || req.CheckingDisabled && opt != nil && opt.Do() {
		return Result{}, false, false
	}
	if _, failed := r.failed.get(q); failed {
		return Result{}, false, false
	}
	// Follow cached CNAMEs as lookCache does (only without a Validator:
	// a chain's verdict is the slow path's).
	var chain []dns.RR
	name := q.Name
	for {
		c := r.cache.Get(name, q.Qtype, q.Qclass)
		switch c.Kind {
		case cache.Positive:
			res = Result{Kind: KindAnswer, Rcode: dns.RcodeSuccess, Answer: append(chain, c.RRs...)}
		case cache.NXDomain:
			res = Result{Kind: KindNXDomain, Rcode: dns.RcodeNameError, Answer: chain, Authority: []dns.RR{c.SOA}}
		case cache.NoData:
			res = Result{Kind: KindNoData, Rcode: dns.RcodeSuccess, Answer: chain, Authority: []dns.RR{c.SOA}}
		default:
			if q.Qtype == dns.TypeCNAME || r.cfg.Validator != nil || len(chain) >= maxChain {
				return Result{}, false, false
			}
			cn := r.cache.Get(name, dns.TypeCNAME, q.Qclass)
			if cn.Kind != cache.Positive {
				return Result{}, false, false
			}
			chain = append(chain, cn.RRs...)
			name = dns.CanonicalName(cn.RRs[0].(*dns.CNAME).Target)
			continue
		}
		break
	}
	if r.cfg.Validator == nil || req.CheckingDisabled {
		return res, true, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.queryTime)
	defer cancel()
	res = r.validated(ctx, q, res, &budget{active: map[qkey]bool{}})
	return res, false, true
}

// withSignatures returns answer with the RRSIGs among fetched that cover
// one of its RRsets (same owner, type covered) and that it lacks: an
// Insecure answer is served as resolved, without DO, so its signatures
// come from the Validator's fetch (Verdict.Answer), for DO clients (RFC
// 4035 §3.2.1; forClient strips them for others). Records of fetched
// that are not signatures of answer's data are never added.
func withSignatures(answer, fetched []dns.RR) []dns.RR {
	type set struct {
		name  string
		rtype uint16
	}
	have := map[set]bool{}
	for _, rr := range answer {
		have[set{dns.CanonicalName(rr.Header().Name), rr.Header().Rrtype}] = true
	}
	var out []dns.RR
	for _, rr := range fetched {
		sig, ok := rr.(*dns.RRSIG)
		if !ok || !have[set{dns.CanonicalName(sig.Hdr.Name), sig.TypeCovered}] || slices.ContainsFunc(answer, func(a dns.RR) bool { return dns.IsDuplicate(a, sig) }) {
			continue
		}
		if out == nil {
			out = append(make([]dns.RR, 0, len(answer)+len(fetched)), answer...)
		}
		out = append(out, sig)
	}
	if out == nil {
		return answer
	}
	return out
}

func copyRRs(rrs []dns.RR) []dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

// clientIP returns the IP address of a client's net.Addr, IPv4-mapped
// addresses unmapped; the zero Addr if there is none.
func clientIP(addr net.Addr) netip.Addr {
	var ip netip.Addr
	switch a := addr.(type) {
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case nil:
	default:
		if ap, err := netip.ParseAddrPort(addr.String()); err == nil {
			ip = ap.Addr()
		}
	}
	return ip.Unmap()
}

// pendingCounter counts the client queries of each IP address waiting for
// their resolution, up to maxPendingPerClient.
type pendingCounter struct {
	mu sync.Mutex
	m  map[netip.Addr]int // guarded by mu; no zero entries
}

// add counts one more pending query for ip, or reports false when ip
// already has maxPendingPerClient.
func (p *pendingCounter) add(ip netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[netip.Addr]int{}
	}
	if p.m[ip] >= maxPendingPerClient {
		return false
	}
	p.m[ip]++
	return true
}

// done counts one pending query of ip as answered.
func (p *pendingCounter) done(ip netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m[ip]--; p.m[ip] <= 0 {
		delete(p.m, ip)
	}
}
