package resolver

import (
	"context"
	"encoding/hex"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
)

const exampleSOA = "example.test. 300 IN SOA ns1.example.test. h.example.test. 1 1800 900 604800 300"

func TestResolveBasics(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	r := newFakeResolver(t, f, Config{})
	for _, tc := range []struct {
		name   string
		qtype  uint16
		rcode  int
		answer []string
		ns     []string
	}{
		{"www.example.test.", dns.TypeA, dns.RcodeSuccess, []string{"www.example.test. 3600 IN A 192.0.2.10"}, nil},
		{"WwW.ExAmple.test.", dns.TypeA, dns.RcodeSuccess, []string{"WwW.ExAmple.test. 3600 IN A 192.0.2.10"}, nil},
		{"alias.example.test.", dns.TypeA, dns.RcodeSuccess, []string{"alias.example.test. 3600 IN CNAME www.example.test.", "www.example.test. 3600 IN A 192.0.2.10"}, nil},
		{"nope.example.test.", dns.TypeA, dns.RcodeNameError, nil, []string{exampleSOA}},
		{"www.example.test.", dns.TypeMX, dns.RcodeSuccess, nil, []string{exampleSOA}},
		// The root's SOA MINIMUM is a day: the negative TTL is clamped.
		{"nosuch.", dns.TypeA, dns.RcodeNameError, nil, []string{". 3600 IN SOA a.root.test. h.root.test. 1 1800 900 604800 86400"}},
	} {
		reply := ask(r, tc.name, tc.qtype)
		if reply.Rcode != tc.rcode || !reply.RecursionAvailable {
			t.Errorf("%s: rcode %s RA %v, want %s", tc.name, dns.RcodeToString[reply.Rcode], reply.RecursionAvailable, dns.RcodeToString[tc.rcode])
		}
		dnstest.Sections{Answer: tc.answer, Ns: tc.ns}.Check(t, reply)
	}
}

// TestQNAMEMinimisation checks what each server learns: the root only
// "test.", test. only "example.test." (RFC 9156).
func TestQNAMEMinimisation(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	r := newFakeResolver(t, f, Config{})
	if reply := ask(r, "a.b.www.example.test.", dns.TypeTXT); reply.Rcode != dns.RcodeNameError {
		t.Fatalf("rcode %s", dns.RcodeToString[reply.Rcode])
	}
	want := map[string]string{"127.53.0.1": "test.", "127.53.1.1": "example.test."}
	for _, q := range f.queries() {
		if w, ok := want[q.server.String()]; ok && (!strings.EqualFold(q.name, w) || q.qtype != dns.TypeA) {
			t.Errorf("%s was asked %s/%s, want %s/A", q.server, q.name, dns.TypeToString[q.qtype], w)
		}
	}
}

// TestRelaxedMinimisation checks the fallback to the full name when a
// server answers a minimised name with NXDOMAIN wrongly.
func TestRelaxedMinimisation(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	real := f.servers[netip.MustParseAddr("127.53.2.1")]
	f.handle("127.53.2.1", dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		if strings.EqualFold(req.Question[0].Name, "b.example.test.") { // broken: an empty non-terminal as NXDOMAIN
			m := new(dns.Msg)
			m.SetRcode(req, dns.RcodeNameError)
			w.WriteMsg(m)
			return
		}
		real.ServeDNS(w, req)
	}))
	r := newFakeResolver(t, f, Config{})
	reply := ask(r, "www.b.example.test.", dns.TypeA)
	// The full name gets the zone's real NXDOMAIN; the point is that it was asked.
	asked := false
	for _, q := range f.queries() {
		asked = asked || strings.EqualFold(q.name, "www.b.example.test.")
	}
	if !asked || reply.Rcode != dns.RcodeNameError {
		t.Errorf("full name asked %v, rcode %s", asked, dns.RcodeToString[reply.Rcode])
	}
}

// TestTruncatedToTCP checks that a truncated reply is asked again over TCP.
func TestTruncatedToTCP(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	r := newFakeResolver(t, f, Config{})
	reply := ask(r, "big.example.test.", dns.TypeTXT)
	if reply.Rcode != dns.RcodeSuccess || !reply.Truncated {
		t.Errorf("rcode %s TC %v: the UDP client reply must be truncated", dns.RcodeToString[reply.Rcode], reply.Truncated)
	}
	q := new(dns.Msg)
	q.SetQuestion("big.example.test.", dns.TypeTXT)
	w := &recorder{network: "tcp"}
	r.ServeDNS(w, q)
	if len(w.msg.Answer) != 13 {
		t.Errorf("over TCP: %d TXT records, want 13", len(w.msg.Answer))
	}
	tcp := false
	for _, s := range f.queries() {
		tcp = tcp || s.tcp
	}
	if !tcp {
		t.Error("no upstream query went over TCP")
	}
}

// Test0x20 checks random case in upstream names and the per-server
// fallback when a server does not echo it.
func Test0x20(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	real := f.servers[netip.MustParseAddr("127.53.2.1")]
	f.handle("127.53.2.1", dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		rec := &recorder{network: "udp"}
		real.ServeDNS(rec, req)
		rec.msg.Question[0].Name = strings.ToLower(rec.msg.Question[0].Name) // does not echo case
		w.WriteMsg(rec.msg)
	}))
	r := newFakeResolver(t, f, Config{})
	if reply := ask(r, "www.example.test.", dns.TypeA); reply.Rcode != dns.RcodeSuccess || len(reply.Answer) != 1 {
		t.Fatalf("reply %v", reply)
	}
	mixed := false
	for _, q := range f.queries() {
		mixed = mixed || q.name != strings.ToLower(q.name)
	}
	if !mixed {
		t.Error("no upstream name had random case")
	}
	if !r.infra.NoCase(netip.MustParseAddr("127.53.2.1")) || r.infra.NoCase(netip.MustParseAddr("127.53.1.1")) {
		t.Error("0x20 fallback not per server")
	}
	// Without 0x20 names go out as they are.
	g := newFakeWorld(t, "")
	r = newFakeResolver(t, g, Config{No0x20: true})
	ask(r, "www.example.test.", dns.TypeA)
	for _, q := range g.queries() {
		if q.name != strings.ToLower(q.name) {
			t.Errorf("No0x20: sent %s", q.name)
		}
	}
}

// TestEDNSFallback checks that a server answering FORMERR to EDNS is
// asked again without it.
func TestEDNSFallback(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	real := f.servers[netip.MustParseAddr("127.53.2.1")]
	f.handle("127.53.2.1", dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		if req.IsEdns0() != nil {
			m := new(dns.Msg)
			m.SetRcode(req, dns.RcodeFormatError)
			w.WriteMsg(m)
			return
		}
		real.ServeDNS(w, req)
	}))
	r := newFakeResolver(t, f, Config{})
	if reply := ask(r, "www.example.test.", dns.TypeA); reply.Rcode != dns.RcodeSuccess {
		t.Fatalf("rcode %s", dns.RcodeToString[reply.Rcode])
	}
	if !r.infra.NoEDNS(netip.MustParseAddr("127.53.2.1")) {
		t.Error("EDNS fallback not recorded")
	}
}

// TestLameServer checks that a server that refuses is marked lame and
// the zone's other server answers.
func TestLameServer(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "two 86400 IN NS ns1.two\ntwo 86400 IN NS ns2.two\nns1.two 86400 IN A 127.53.3.1\nns2.two 86400 IN A 127.53.3.2")
	f.handle("127.53.3.1", dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeRefused)
		w.WriteMsg(m)
	}))
	f.zones(t, "127.53.3.2", "two.test.", "@ 300 IN SOA ns1 h 1 1 1 1 300\n@ 300 IN NS ns1\n@ 300 IN NS ns2\nns1 300 IN A 127.53.3.1\nns2 300 IN A 127.53.3.2\nwww 300 IN A 192.0.2.2")
	r := newFakeResolver(t, f, Config{})
	for _, name := range []string{"www.two.test.", "ns1.two.test.", "nope.two.test."} {
		if reply := ask(r, name, dns.TypeA); reply.Rcode == dns.RcodeServerFailure {
			t.Errorf("%s: SERVFAIL", name)
		}
	}
	// Lameness is remembered per query only, so a forged REFUSED cannot
	// bench the real server for everyone: at most the minimised and the
	// full name per query.
	if n := f.countTo("127.53.3.1"); n > 2*3 {
		t.Errorf("lame server asked %d times in 3 queries", n)
	}
}

// TestDSFromParent checks that DS is asked of the parent's servers.
func TestDSFromParent(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	r := newFakeResolver(t, f, Config{})
	ask(r, "www.example.test.", dns.TypeA) // learn the cut
	n := len(f.queries())
	reply := ask(r, "example.test.", dns.TypeDS)
	if reply.Rcode != dns.RcodeSuccess || len(reply.Ns) != 1 || reply.Ns[0].Header().Name != "test." {
		t.Errorf("DS reply %v", reply)
	}
	for _, q := range f.queries()[n:] {
		if q.server.String() != "127.53.1.1" {
			t.Errorf("DS asked of %s", q.server)
		}
	}
}

// TestACL checks that clients outside the allowed ranges get REFUSED
// with EDE 18, and that the ranges are configurable.
func TestACL(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	r := newFakeResolver(t, f, Config{})
	for _, tc := range []struct {
		ip    string
		rcode int
	}{
		{"127.0.0.1", dns.RcodeSuccess}, {"10.1.2.3", dns.RcodeSuccess}, {"192.168.1.1", dns.RcodeSuccess},
		{"172.16.0.1", dns.RcodeSuccess}, {"::1", dns.RcodeSuccess}, {"fd00::1", dns.RcodeSuccess},
		{"::ffff:10.0.0.1", dns.RcodeSuccess},
		{"192.0.2.1", dns.RcodeRefused}, {"8.8.8.8", dns.RcodeRefused}, {"2001:db8::1", dns.RcodeRefused},
		{"172.32.0.1", dns.RcodeRefused},
	} {
		q := dnstest.EDNS(dnstest.Query("www.example.test.", dns.TypeA), 1232, false)
		q.RecursionDesired = true
		w := &recorder{network: "udp", remote: &net.UDPAddr{IP: net.ParseIP(tc.ip), Port: 5353}}
		r.ServeDNS(w, q)
		if w.msg.Rcode != tc.rcode {
			t.Errorf("%s: %s, want %s", tc.ip, dns.RcodeToString[w.msg.Rcode], dns.RcodeToString[tc.rcode])
		}
		if e := ede(w.msg); tc.rcode == dns.RcodeRefused && (e == nil || e.InfoCode != dns.ExtendedErrorCodeProhibited) {
			t.Errorf("%s: EDE %v, want Prohibited", tc.ip, e)
		}
	}
	open := newFakeResolver(t, f, Config{Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	for ip, rcode := range map[string]int{"192.0.2.7": dns.RcodeSuccess, "127.0.0.1": dns.RcodeRefused} {
		q := dnstest.Query("www.example.test.", dns.TypeA)
		q.RecursionDesired = true
		w := &recorder{network: "udp", remote: &net.UDPAddr{IP: net.ParseIP(ip), Port: 5353}}
		open.ServeDNS(w, q)
		if w.msg.Rcode != rcode {
			t.Errorf("Allow 192.0.2.0/24, client %s: %s", ip, dns.RcodeToString[w.msg.Rcode])
		}
	}
}

// TestNotRecursive checks the queries the resolver does not resolve.
func TestNotRecursive(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	r := newFakeResolver(t, f, Config{})
	for name, mk := range map[string]func() *dns.Msg{
		"RD=0": func() *dns.Msg { return dnstest.Query("www.example.test.", dns.TypeA) },
		"AXFR": func() *dns.Msg {
			m := dnstest.Query("example.test.", dns.TypeAXFR)
			m.RecursionDesired = true
			return m
		},
		"CH": func() *dns.Msg {
			m := dnstest.Query("version.bind.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			m.RecursionDesired = true
			return m
		},
	} {
		w := &recorder{network: "udp"}
		r.ServeDNS(w, mk())
		if w.msg.Rcode != dns.RcodeRefused {
			t.Errorf("%s: %s", name, dns.RcodeToString[w.msg.Rcode])
		}
	}
	if len(f.queries()) != 0 {
		t.Errorf("%d upstream queries", len(f.queries()))
	}
}

// TestInFlightMerge checks that identical concurrent client queries cause
// one resolution.
func TestInFlightMerge(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	release := make(chan struct{})
	real := f.servers[netip.MustParseAddr("127.53.2.1")]
	var mu sync.Mutex
	asked := 0
	f.handle("127.53.2.1", dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		mu.Lock()
		asked++
		mu.Unlock()
		<-release
		real.ServeDNS(w, req)
	}))
	r := newFakeResolver(t, f, Config{NoQNAMEMinimisation: true})
	const clients = 20
	var wg sync.WaitGroup
	replies := make([]*dns.Msg, clients)
	for i := range clients {
		wg.Go(func() { replies[i] = ask(r, "www.example.test.", dns.TypeA) })
	}
	// Wait until every client is either the leader or waiting on it.
	for {
		r.flight.mu.Lock()
		fl := r.flight.m[qkeyClass{"www.example.test.", dns.TypeA, dns.ClassINET}]
		n := 0
		if fl != nil {
			n = fl.waiters
		}
		r.flight.mu.Unlock()
		if n == clients-1 {
			break
		}
		runtimeGosched()
	}
	close(release)
	wg.Wait()
	if asked != 1 {
		t.Errorf("example.test. server asked %d times, want 1", asked)
	}
	for i, m := range replies {
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
			t.Errorf("client %d: %v", i, m)
		}
	}
}

func TestHints(t *testing.T) {
	t.Parallel()
	h := IANARootHints()
	if len(h.NS) != 13 {
		t.Errorf("%d root servers", len(h.NS))
	}
	for _, bad := range []string{"", "example. 1 IN NS a.example.\na.example. 1 IN A 192.0.2.1", ". 1 IN NS a.root.\n", ". 1 IN NS"} {
		if _, err := ParseHints(strings.NewReader(bad), "hints"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := New(Config{Hints: Hints{NS: []string{"a."}}}); err == nil {
		t.Error("hints without addresses accepted")
	}
	_ = context.Background
}

// TestTrace checks the transitions of a cold resolution: down from the
// root through two referrals, minimised, to the answer.
func TestTrace(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	var hooked []Transition
	r := newFakeResolver(t, f, Config{Trace: func(tr Transition) { hooked = append(hooked, tr) }})
	res := r.Resolve(context.Background(), "www.example.test.", dns.TypeA)
	var notes []string
	for _, tr := range res.Trace {
		if tr.Step == "pick-server" && strings.HasPrefix(tr.Note, "referral") || tr.Step == "done" {
			notes = append(notes, tr.Step+" "+tr.Note)
		}
	}
	want := []string{"pick-server referral to test.", "pick-server referral to example.test.", "done answer"}
	if strings.Join(notes, "; ") != strings.Join(want, "; ") {
		t.Errorf("trace:\n%v\nwant the steps %q", res.Trace, want)
	}
	if res.Trace[0].Step != "cache" || len(hooked) != len(res.Trace) {
		t.Errorf("trace starts with %v; hook saw %d of %d", res.Trace[0], len(hooked), len(res.Trace))
	}
	for _, tr := range res.Trace {
		_ = tr.String()
	}
}

// TestTCPOnlyServer: a server that answers every UDP query with an empty
// truncated reply is asked over TCP.
func TestTCPOnlyServer(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	real := f.servers[netip.MustParseAddr("127.53.2.1")]
	f.handle("127.53.2.1", dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		if w.(interface{ Network() string }).Network() == "udp" {
			m := new(dns.Msg)
			m.SetReply(req)
			m.Truncated = true
			w.WriteMsg(m)
			return
		}
		real.ServeDNS(w, req)
	}))
	r := newFakeResolver(t, f, Config{})
	if reply := ask(r, "www.example.test.", dns.TypeA); reply.Rcode != dns.RcodeSuccess || len(reply.Answer) != 1 {
		t.Errorf("reply %v", reply)
	}
}

// TestRFC8767ServeStale: with ServeStale on, expired data is served with
// EDE 3 (or 19 for NXDOMAIN) and TTL 30 when the servers are gone; off
// (the default), the answer is SERVFAIL.
func TestRFC8767ServeStale(t *testing.T) {
	t.Parallel()
	for _, stale := range []time.Duration{0, 24 * time.Hour} {
		now := time.Unix(1700000000, 0)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		f := newFakeWorld(t, "")
		r := newFakeResolver(t, f, Config{Now: clock, ServeStale: stale})
		ask(r, "www.example.test.", dns.TypeA)
		ask(r, "nope.example.test.", dns.TypeA)
		mu.Lock()
		now = now.Add(2 * time.Hour) // past every TTL of example.test.
		mu.Unlock()
		f.handle("127.53.2.1", nil) // the zone's server is gone
		for _, tc := range []struct {
			name  string
			rcode int
			ede   uint16
		}{
			{"www.example.test.", dns.RcodeSuccess, dns.ExtendedErrorCodeStaleAnswer},
			{"nope.example.test.", dns.RcodeNameError, dns.ExtendedErrorCodeStaleNXDOMAINAnswer},
			{"www.example.test.", dns.RcodeSuccess, dns.ExtendedErrorCodeStaleAnswer}, // via the failure cache
		} {
			reply := ask(r, tc.name, dns.TypeA)
			e := ede(reply)
			switch {
			case stale == 0 && reply.Rcode != dns.RcodeServerFailure:
				t.Errorf("serve-stale off: %s %s", tc.name, dns.RcodeToString[reply.Rcode])
			case stale == 0:
			case reply.Rcode != tc.rcode || e == nil || e.InfoCode != tc.ede:
				t.Errorf("%s: %s EDE %v, want %s EDE %d", tc.name, dns.RcodeToString[reply.Rcode], e, dns.RcodeToString[tc.rcode], tc.ede)
			case tc.rcode == dns.RcodeSuccess && (len(reply.Answer) != 1 || reply.Answer[0].Header().Ttl != 30):
				t.Errorf("%s: stale answer %v, want TTL 30", tc.name, reply.Answer)
			}
		}
	}
}

// clientCookie is the Client Cookie r sends to addr, in hex.
func clientCookie(r *Resolver, addr string) string {
	c := r.cookies.ClientCookie(netip.MustParseAddr(addr))
	return hex.EncodeToString(c[:])
}

// TestCookies checks DNS Cookies (RFC 7873): queries carry a Client
// Cookie per server and return the Server Cookie learned; BADCOOKIE is
// asked again; replies with someone else's Client Cookie are dropped, and
// they do not switch 0x20 off.
func TestCookies(t *testing.T) {
	t.Parallel()
	f := newFakeWorld(t, "")
	real := f.servers[netip.MustParseAddr("127.53.2.1")]
	const serverCookie = "00112233445566778899aabbccddeeff"
	var mu sync.Mutex
	var seen []string
	forge, badCookie := false, false
	f.handle("127.53.2.1", dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		var sent string
		for _, o := range req.IsEdns0().Option {
			if c, ok := o.(*dns.EDNS0_COOKIE); ok {
				sent = c.Cookie
			}
		}
		mu.Lock()
		seen = append(seen, sent)
		forgeNow, bad := forge, badCookie
		badCookie = false
		mu.Unlock()
		rec := &recorder{network: "udp"}
		real.ServeDNS(rec, req)
		m := rec.msg
		if m.IsEdns0() == nil {
			m.SetEdns0(1232, false)
		}
		echo := sent[:16] + serverCookie
		if forgeNow {
			echo = "0102030405060708" + serverCookie
		}
		if bad {
			m.Rcode, m.Answer = dns.RcodeBadCookie, nil
		}
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: echo}}
		w.WriteMsg(m)
	}))
	r := newFakeResolver(t, f, Config{})
	if reply := ask(r, "www.example.test.", dns.TypeA); reply.Rcode != dns.RcodeSuccess {
		t.Fatalf("rcode %s", dns.RcodeToString[reply.Rcode])
	}
	if len(seen) == 0 || seen[0] != clientCookie(r, "127.53.2.1") {
		t.Fatalf("first query's cookie %q, want the Client Cookie alone", seen)
	}
	n := len(seen)
	ask(r, "mail.example.test.", dns.TypeA)
	if got := seen[n]; got != seen[0]+serverCookie {
		t.Errorf("second query's cookie %q: the Server Cookie is not returned", got)
	}
	if clientCookie(r, "127.53.1.1") == seen[0] {
		t.Error("the same Client Cookie for two servers")
	}
	mu.Lock()
	badCookie = true
	mu.Unlock()
	if reply := ask(r, "alias.example.test.", dns.TypeA); reply.Rcode != dns.RcodeSuccess || len(reply.Answer) != 2 {
		t.Errorf("after BADCOOKIE: %v", reply)
	}
	mu.Lock()
	forge = true
	mu.Unlock()
	if reply := ask(r, "v4.example.test.", dns.TypeA); reply.Rcode != dns.RcodeServerFailure {
		t.Errorf("replies with a foreign Client Cookie accepted: %s", dns.RcodeToString[reply.Rcode])
	}
	if r.infra.NoCase(netip.MustParseAddr("127.53.2.1")) {
		t.Error("forged replies turned 0x20 off")
	}
}
