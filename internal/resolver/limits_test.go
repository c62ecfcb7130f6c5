package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// wantServFail checks that reply is SERVFAIL with an Extended DNS Error.
func wantServFail(t *testing.T, reply *dns.Msg, code uint16) {
	t.Helper()
	if reply.Rcode != dns.RcodeServerFailure {
		t.Fatalf("rcode %s, want SERVFAIL", dns.RcodeToString[reply.Rcode])
	}
	e := ede(reply)
	if e == nil || e.InfoCode != code {
		t.Fatalf("EDE %v, want code %d (%s)", e, code, dns.ExtendedErrorCodeToString[code])
	}
	t.Logf("SERVFAIL, EDE %d (%s): %s", e.InfoCode, dns.ExtendedErrorCodeToString[e.InfoCode], e.ExtraText)
}

// deepHandler serves an endless delegation under loop.test.: the server
// at 127.66.0.k is authoritative for the zones of k labels and refers
// every query one label deeper, to a new server 127.66.0.(k+1) with glue.
// From answerAt labels on it answers instead, with answer(name).
func deepHandler(answerAt int, answer func(name string) []dns.RR) func(addr int) dns.Handler {
	return func(k int) dns.Handler {
		return dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
			name := dns.CanonicalName(req.Question[0].Name)
			m := new(dns.Msg)
			m.SetReply(req)
			labels := dns.Split(name)
			switch {
			case k >= answerAt:
				m.Authoritative = true
				m.Answer = answer(name)
			case len(labels) <= k:
				m.Authoritative = true // the zone's apex: no data
			default:
				child := name[labels[len(labels)-k-1]:]
				ns := "ns." + child
				m.Ns = []dns.RR{&dns.NS{Hdr: dns.RR_Header{Name: child, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 300}, Ns: ns}}
				m.Extra = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: ns, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
					A: netip.AddrFrom4([4]byte{127, 66, 0, byte(k + 1)}).AsSlice()}}
			}
			w.WriteMsg(m)
		})
	}
}

// loopWorld delegates loop.test. to the deep handler's servers.
func loopWorld(t *testing.T, h func(int) dns.Handler) *fakeNet {
	f := newFakeWorld(t, "loop 300 IN NS ns.loop\nns.loop 300 IN A 127.66.0.2")
	for k := 2; k < 250; k++ {
		f.handle("127.66.0."+strconv.Itoa(k), h(k))
	}
	return f
}

// TestLimitEndlessDelegation: each referral one label deeper, to a new
// server, never an answer. maxSendsPerName ends it.
func TestLimitEndlessDelegation(t *testing.T) {
	t.Parallel()
	f := loopWorld(t, deepHandler(1000, nil))
	r := newFakeResolver(t, f, Config{})
	name := strings.Repeat("a.", 100) + "loop.test."
	wantServFail(t, ask(r, name, dns.TypeA), dns.ExtendedErrorCodeOther)
	if n := len(f.queries()); n > maxSendsPerName {
		t.Errorf("%d upstream queries, limit %d", n, maxSendsPerName)
	}
}

// TestLimitSendsPerQuery: a chain of CNAMEs, each target 23 referrals
// deep. No one name costs more than maxSendsPerName, but the client query
// as a whole is stopped at maxSendsPerQuery.
func TestLimitSendsPerQuery(t *testing.T) {
	t.Parallel()
	const depth = 25
	target := func(i int) string {
		return fmt.Sprintf("n%d.", i) + strings.Repeat(fmt.Sprintf("c%d.", i), depth-3) + "loop.test."
	}
	f := loopWorld(t, deepHandler(depth, func(name string) []dns.RR {
		i, _ := strconv.Atoi(strings.TrimPrefix(strings.Split(name, ".")[0], "n"))
		return []dns.RR{&dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 300}, Target: target(i + 1)}}
	}))
	r := newFakeResolver(t, f, Config{})
	wantServFail(t, ask(r, target(0), dns.TypeA), dns.ExtendedErrorCodeOther)
	if n := len(f.queries()); n > maxSendsPerQuery {
		t.Errorf("%d upstream queries, limit %d", n, maxSendsPerQuery)
	}
	if n := len(f.queries()); n < maxSendsPerQuery {
		t.Errorf("only %d upstream queries: the scenario no longer reaches the limit", n)
	}
}

// TestLimitGluelessNS: NXNSAttack (CVE-2020-12662). A referral to 100
// glueless NS names in a zone where none exists: only targetFetches[0]
// are looked up. A referral with 1,000 names is refused outright
// (MaxRRsPerRRset).
func TestLimitGluelessNS(t *testing.T) {
	t.Parallel()
	for _, n := range []int{100, 1000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			for i := range n {
				fmt.Fprintf(&b, "nxns 300 IN NS ns%d.victim\n", i)
			}
			b.WriteString("victim 300 IN NS ns.victim\nns.victim 300 IN A 127.99.0.1\n")
			f := newFakeWorld(t, b.String())
			f.zones(t, "127.99.0.1", "victim.test.", "@ 300 IN SOA ns h 1 1 1 1 300\n@ 300 IN NS ns\nns 300 IN A 127.99.0.1")
			r := newFakeResolver(t, f, Config{})
			wantServFail(t, ask(r, "www.nxns.test.", dns.TypeA), dns.ExtendedErrorCodeNoReachableAuthority)
			if got := f.countTo("127.99.0.1"); got > targetFetches[0] {
				t.Errorf("victim got %d queries, want at most %d", got, targetFetches[0])
			}
		})
	}
}

// TestLimitFailedTargets: NXNSAttack (CVE-2020-12662) through nested
// glueless zones. www.z.test. is served by n1.y1, n2.y2 and n3.y3 (in
// test.), each of those zones by two names in victim.test. that do not
// exist. Per zone the fetch limits allow all of it; maxFailedTargets per
// client query stops it after the fifth failure, before the third y zone
// is tried: the victim sees 4 queries, not 6.
func TestLimitFailedTargets(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, `
z 300 IN NS n1.y1
z 300 IN NS n2.y2
z 300 IN NS n3.y3
y1 300 IN NS m1.victim
y1 300 IN NS m2.victim
y2 300 IN NS m3.victim
y2 300 IN NS m4.victim
y3 300 IN NS m5.victim
y3 300 IN NS m6.victim
victim 300 IN NS ns.victim
ns.victim 300 IN A 127.99.0.1`)
	f.zones(t, "127.99.0.1", "victim.test.", "@ 300 IN SOA ns h 1 1 1 1 300\n@ 300 IN NS ns\nns 300 IN A 127.99.0.1")
	r := newFakeResolver(t, f, Config{NoQNAMEMinimisation: true})
	reply := ask(r, "www.z.test.", dns.TypeA)
	wantServFail(t, reply, dns.ExtendedErrorCodeNoReachableAuthority)
	if e := ede(reply); !strings.Contains(e.ExtraText, "lookups failed") {
		t.Errorf("stopped by %q, want the failed-lookup limit", e.ExtraText)
	}
	if got := f.countTo("127.99.0.1"); got != 4 {
		t.Errorf("victim got %d queries, want 4", got)
	}
}

// TestLimitCNAMELoop: a loop inside one zone and one across zones end at
// maxChain links.
func TestLimitCNAMELoop(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "one 300 IN NS ns.one\nns.one 300 IN A 127.53.3.1\ntwo 300 IN NS ns.two\nns.two 300 IN A 127.53.3.2")
	f.zones(t, "127.53.3.1", "one.test.", "@ 300 IN SOA ns h 1 1 1 1 300\n@ 300 IN NS ns\nns 300 IN A 127.53.3.1\na 300 IN CNAME b\nb 300 IN CNAME a\nx 300 IN CNAME y.two.test.")
	f.zones(t, "127.53.3.2", "two.test.", "@ 300 IN SOA ns h 1 1 1 1 300\n@ 300 IN NS ns\nns 300 IN A 127.53.3.2\ny 300 IN CNAME x.one.test.")
	r := newFakeResolver(t, f, Config{})
	for _, name := range []string{"a.one.test.", "x.one.test."} {
		start := len(f.queries())
		wantServFail(t, ask(r, name, dns.TypeA), dns.ExtendedErrorCodeOther)
		if n := len(f.queries()) - start; n > 2*maxChain+6 {
			t.Errorf("%s: %d upstream queries", name, n)
		}
	}
}

// TestLimitBlackHole: every server of a zone is silent. Each is tried
// maxTriesPerServer times, then SERVFAIL with EDE 22.
func TestLimitBlackHole(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "dark 300 IN NS ns1.dark\ndark 300 IN NS ns2.dark\nns1.dark 300 IN A 127.66.1.1\nns2.dark 300 IN A 127.66.1.2")
	r := newFakeResolver(t, f, Config{})
	wantServFail(t, ask(r, "www.dark.test.", dns.TypeA), dns.ExtendedErrorCodeNoReachableAuthority)
	if n := f.countTo("127.66.1."); n != 2*maxTriesPerServer {
		t.Errorf("%d queries to the black holes, want %d", n, 2*maxTriesPerServer)
	}
}

// TestLimitQueryTime: servers that never answer and never fail fast. The
// client query ends at the query time limit (shortened here) with EDE 22.
func TestLimitQueryTime(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "slow 300 IN NS ns1.slow\nslow 300 IN NS ns2.slow\nslow 300 IN NS ns3.slow\n"+
		"ns1.slow 300 IN A 127.66.2.1\nns2.slow 300 IN A 127.66.2.2\nns3.slow 300 IN A 127.66.2.3")
	for i := 1; i <= 3; i++ {
		f.blocking[netip.MustParseAddr("127.66.2."+strconv.Itoa(i))] = true
	}
	r := newFakeResolver(t, f, Config{})
	r.queryTime, r.attemptTime = 150*time.Millisecond, 40*time.Millisecond
	start := time.Now()
	wantServFail(t, ask(r, "www.slow.test.", dns.TypeA), dns.ExtendedErrorCodeNoReachableAuthority)
	if d := time.Since(start); d > r.queryTime+time.Second {
		t.Errorf("took %v, limit %v", d, r.queryTime)
	}
}

// TestLimitCyclicNS: a.test. is served by ns.b.test. and b.test. by
// ns.a.test., no glue. The dependency cycle is found and the query fails
// with EDE 22 after a handful of queries.
func TestLimitCyclicNS(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "a 300 IN NS ns.b\nb 300 IN NS ns.a")
	r := newFakeResolver(t, f, Config{})
	wantServFail(t, ask(r, "www.a.test.", dns.TypeA), dns.ExtendedErrorCodeNoReachableAuthority)
	if n := len(f.queries()); n > 10 {
		t.Errorf("%d upstream queries", n)
	}
}

// TestLimitDepth: a chain of glueless delegations, each zone's server
// named in the next zone, deeper than maxDepth. The fetch policy
// (targetFetches: none at depth 3) stops it first; maxDepth is the
// backstop behind it.
func TestLimitDepth(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range maxDepth + 2 {
		fmt.Fprintf(&b, "d%d 300 IN NS ns.d%d\n", i, i+1)
	}
	f := newFakeWorld(t, b.String())
	r := newFakeResolver(t, f, Config{})
	res := r.Resolve(t.Context(), "www.d0.test.", dns.TypeA)
	if res.Kind != KindServFail || res.EDE == nil {
		t.Fatalf("result %v %v", res.Kind, res.EDE)
	}
	deepest := 0
	for _, tr := range res.Trace {
		deepest = max(deepest, tr.Depth)
	}
	if deepest > maxDepth || deepest > 3 {
		t.Errorf("reached depth %d, limit %d (3 by the fetch policy)", deepest, maxDepth)
	}
}

// TestLimitWaiters: DNSBomb. Past maxWaiters clients on one in-flight
// query, more get SERVFAIL at once instead of piling up.
func TestLimitWaiters(t *testing.T) {
	t.Parallel()
	var fl flights
	release := make(chan struct{})
	started := make(chan struct{})
	go fl.do(t.Context(), "x.", 1, 1, func(context.Context) Result { close(started); <-release; return Result{} })
	<-started
	fl.mu.Lock()
	fl.m[qkeyClass{"x.", 1, 1}].waiters = maxWaiters
	fl.mu.Unlock()
	if _, err := fl.do(t.Context(), "x.", 1, 1, nil); err != errTooManyWaiters {
		t.Errorf("err %v, want errTooManyWaiters", err)
	}
	close(release)
}

// TestLimitFailureCache: TsuNAME (RFC 9520). A failed question is
// answered from the failure cache with EDE 13 for 1 s, then asked again;
// a second failure in a row is remembered for 2 s, and so on.
func TestLimitFailureCache(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f := newFakeWorld(t, "a 300 IN NS ns.b\nb 300 IN NS ns.a")
	r := newFakeResolver(t, f, Config{Now: clock})
	wantServFail(t, ask(r, "www.a.test.", dns.TypeA), dns.ExtendedErrorCodeNoReachableAuthority)
	n := len(f.queries())
	wantServFail(t, ask(r, "www.a.test.", dns.TypeA), dns.ExtendedErrorCodeCachedError)
	if len(f.queries()) != n {
		t.Errorf("a cached failure was asked upstream")
	}
	advance(minFailureTTL)
	wantServFail(t, ask(r, "www.a.test.", dns.TypeA), dns.ExtendedErrorCodeNoReachableAuthority)
	advance(3 * minFailureTTL / 2)
	wantServFail(t, ask(r, "www.a.test.", dns.TypeA), dns.ExtendedErrorCodeCachedError)
	advance(minFailureTTL)
	wantServFail(t, ask(r, "www.a.test.", dns.TypeA), dns.ExtendedErrorCodeNoReachableAuthority)
	// The back-off is capped.
	for range 20 {
		r.failed.record(dns.Question{Name: "x.", Qtype: 1, Qclass: 1}, true)
	}
	if b := r.failed.m[qkeyClass{"x.", 1, 1}].backoff; b != maxFailureTTL {
		t.Errorf("back-off %v, want the cap %v", b, maxFailureTTL)
	}
}

// TestLimitPendingPerClient: DNSBomb. A client address with
// maxPendingPerClient queries waiting gets no reply to the next one.
func TestLimitPendingPerClient(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	r := newFakeResolver(t, f, Config{})
	ip := netip.MustParseAddr("127.0.0.1")
	for range maxPendingPerClient {
		r.pending.add(ip)
	}
	if m := ask(r, "www.example.test.", dns.TypeA); m != nil {
		t.Errorf("reply over the pending limit: %v", m)
	}
	r.pending.done(ip)
	if m := ask(r, "www.example.test.", dns.TypeA); m == nil || m.Rcode != dns.RcodeSuccess {
		t.Errorf("below the limit: %v", m)
	}
}
