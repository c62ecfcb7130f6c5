package ratelimit

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/dnstest"
)

// clock is an injected clock the tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Unix(1700000000, 0)} }

// answerer answers every query with one A record, or with rcode when set.
type answerer struct {
	rcode int
	last  *dns.Msg
}

func (a *answerer) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Rcode = a.rcode
	if a.rcode == dns.RcodeSuccess {
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)}}
	}
	if r.IsEdns0() != nil {
		m.SetEdns0(1232, r.IsEdns0().Do())
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: "6e73"}}
	}
	a.last = m
	_ = w.WriteMsg(m)
}

// outcome is what a client saw: "answer", "drop" or "tc".
func outcome(rec *dnstest.Recorder) string {
	switch {
	case rec.Msg == nil:
		return "drop"
	case rec.Msg.Truncated:
		return "tc"
	}
	return "answer"
}

// ask sends a query for name/qtype from client over network through h.
func ask(h dns.Handler, network, client, name string, qtype uint16) *dnstest.Recorder {
	rec := dnstest.NewRecorder(network)
	ip := net.ParseIP(client)
	if network == "tcp" {
		rec.Remote = &net.TCPAddr{IP: ip, Port: 5300}
	} else {
		rec.Remote = &net.UDPAddr{IP: ip, Port: 5300}
	}
	h.ServeDNS(rec, dnstest.Query(name, qtype))
	return rec
}

func newRRL(t *testing.T, cfg Config, h dns.Handler) (dns.Handler, *Limiter, *clock) {
	t.Helper()
	c := newClock()
	if cfg.Now == nil {
		cfg.Now = c.now
	}
	mw, l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return mw(h), l, c
}

func count(outcomes []string) map[string]int {
	m := map[string]int{}
	for _, o := range outcomes {
		m[o]++
	}
	return m
}

// TestRatePerClassAndPrefix: each (prefix, key) gets 5 a second; other
// names, types, classes and prefixes have budgets of their own.
func TestRatePerClassAndPrefix(t *testing.T) {
	t.Parallel()
	h, l, c := newRRL(t, Config{Slip: NoSlip}, &answerer{})
	for i := range 5 {
		if o := outcome(ask(h, "udp", "198.51.100.7", "example.com.", dns.TypeA)); o != "answer" {
			t.Fatalf("response %d: %s, want answer", i+1, o)
		}
	}
	for _, tc := range []struct {
		client, name string
		qtype        uint16
		want         string
	}{
		{"198.51.100.7", "example.com.", dns.TypeA, "drop"},
		{"198.51.100.200", "example.com.", dns.TypeA, "drop"},      // same /24
		{"198.51.100.7", "EXAMPLE.com.", dns.TypeA, "drop"},        // same name, other case
		{"198.51.100.7", "www.example.com.", dns.TypeA, "answer"},  // other name
		{"198.51.100.7", "example.com.", dns.TypeAAAA, "answer"},   // other type
		{"198.51.101.7", "example.com.", dns.TypeA, "answer"},      // other /24
		{"::ffff:198.51.100.9", "example.com.", dns.TypeA, "drop"}, // mapped: same /24
	} {
		if o := outcome(ask(h, "udp", tc.client, tc.name, tc.qtype)); o != tc.want {
			t.Errorf("%s %s/%s: %s, want %s", tc.client, tc.name, dns.TypeToString[tc.qtype], o, tc.want)
		}
	}
	// The next second brings five more, minus the debt of the four drops
	// (BIND: a dropped response is debited too).
	c.advance(time.Second)
	var got []string
	for range 7 {
		got = append(got, outcome(ask(h, "udp", "198.51.100.7", "example.com.", dns.TypeA)))
	}
	if n := count(got); n["answer"] != 1 || n["drop"] != 6 {
		t.Errorf("next second: %v, want 1 answer (5 credit - 4 debt) then drops", got)
	}
	st := l.Stats()
	if st.Answered != 5+3+1 || st.Dropped != 4+6 || st.Slipped != 0 {
		t.Errorf("stats %+v", st)
	}

	// IPv6 clients share a /56.
	for range 5 {
		ask(h, "udp", "2001:db8:0:ff::1", "example.com.", dns.TypeA)
	}
	if o := outcome(ask(h, "udp", "2001:db8:0:aa::2", "example.com.", dns.TypeA)); o != "drop" {
		t.Errorf("same /56: %s, want drop", o)
	}
	if o := outcome(ask(h, "udp", "2001:db8:0:1ff::1", "example.com.", dns.TypeA)); o != "answer" {
		t.Errorf("other /56: %s, want answer", o)
	}
}

// TestErrorsShareOneBudget: all error responses to a prefix share a key,
// whatever the name.
func TestErrorsShareOneBudget(t *testing.T) {
	t.Parallel()
	h, _, _ := newRRL(t, Config{Slip: NoSlip}, &answerer{rcode: dns.RcodeRefused})
	names := []string{"a.", "b.", "c.", "d.", "e.", "f."}
	var got []string
	for _, n := range names {
		got = append(got, outcome(ask(h, "udp", "203.0.113.1", n, dns.TypeA)))
	}
	if got[5] != "drop" || count(got)["answer"] != 5 {
		t.Errorf("REFUSED for six names: %v, want five answers and a drop", got)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	rr := func(s string) dns.RR { return dnstest.RR(t, s) }
	soa := rr("example.com. 3600 IN SOA ns.example.com. host.example.com. 1 7200 3600 1209600 3600")
	q := func(name string, qtype uint16, rcode int, answer, ns []dns.RR) *dns.Msg {
		m := dnstest.Query(name, qtype)
		m.Response, m.Rcode, m.Answer, m.Ns = true, rcode, answer, ns
		return m
	}
	for _, tc := range []struct {
		name string
		msg  *dns.Msg
		want Key
	}{
		{"positive", q("WWW.example.com.", dns.TypeA, dns.RcodeSuccess, []dns.RR{rr("www.example.com. 60 IN A 192.0.2.1")}, nil),
			Key{Positive, "www.example.com.", dns.TypeA}},
		{"cname chain", q("alias.example.com.", dns.TypeA, dns.RcodeSuccess, []dns.RR{rr("alias.example.com. 60 IN CNAME www.example.com.")}, nil),
			Key{Positive, "alias.example.com.", dns.TypeA}},
		{"nodata", q("www.example.com.", dns.TypeMX, dns.RcodeSuccess, nil, []dns.RR{soa}),
			Key{NoData, "www.example.com.", 0}},
		{"nxdomain keyed by zone", q("random123.example.com.", dns.TypeA, dns.RcodeNameError, nil, []dns.RR{soa}),
			Key{NXDomain, "example.com.", 0}},
		{"nxdomain without SOA", q("random123.example.com.", dns.TypeA, dns.RcodeNameError, nil, nil),
			Key{NXDomain, "random123.example.com.", 0}},
		{"referral", q("host.Sub.example.com.", dns.TypeA, dns.RcodeSuccess, nil, []dns.RR{rr("Sub.example.com. 60 IN NS ns.sub.example.com.")}),
			Key{Referral, "sub.example.com.", 0}},
		{"servfail", q("x.example.com.", dns.TypeA, dns.RcodeServerFailure, nil, nil), Key{Class: Error}},
		{"formerr, no question", &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Rcode: dns.RcodeFormatError}}, Key{Class: Error}},
		{"refused", q("x.example.net.", dns.TypeA, dns.RcodeRefused, nil, nil), Key{Class: Error}},
	} {
		if got := Classify(tc.msg); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestSlipPattern: with slip N exactly every Nth dropped response is a TC=1
// reply carrying only header, question and OPT.
func TestSlipPattern(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		slip int
		want []string // after the 5 answers
	}{
		{0, []string{"drop", "tc", "drop", "tc", "drop", "tc", "drop", "tc"}}, // default: 2
		{1, []string{"tc", "tc", "tc", "tc", "tc", "tc", "tc", "tc"}},
		{3, []string{"drop", "drop", "tc", "drop", "drop", "tc", "drop", "drop"}},
		{NoSlip, []string{"drop", "drop", "drop", "drop", "drop", "drop", "drop", "drop"}},
	} {
		a := &answerer{}
		h, l, _ := newRRL(t, Config{Slip: tc.slip}, a)
		for range 5 {
			ask(h, "udp", "192.0.2.1", "example.com.", dns.TypeA)
		}
		for i, want := range tc.want {
			rec := dnstest.NewRecorder("udp")
			rec.Remote = &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}
			q := dnstest.EDNS(dnstest.Query("Example.com.", dns.TypeA), 1232, true)
			h.ServeDNS(rec, q)
			if got := outcome(rec); got != want {
				t.Errorf("slip %d, drop %d: %s, want %s", tc.slip, i+1, got, want)
				continue
			}
			if want != "tc" {
				continue
			}
			m := rec.Msg
			if len(m.Answer)+len(m.Ns) != 0 || len(m.Extra) != 1 || len(m.Question) != 1 || m.Question[0].Name != "Example.com." || m.Id != q.Id || !m.Response {
				t.Errorf("slip reply is not header + question + OPT:\n%v", m)
			}
			if opt := m.IsEdns0(); opt == nil || !opt.Do() || len(opt.Option) != 0 {
				t.Errorf("slip reply OPT %v, want DO kept and no options", opt)
			}
			if len(rec.Wire) > q.Len() {
				t.Errorf("slip reply is %d bytes, the query %d: it amplifies", len(rec.Wire), q.Len())
			}
			// The handler's own message is untouched.
			if a.last.Truncated || len(a.last.Answer) != 1 || len(a.last.IsEdns0().Option) != 1 {
				t.Errorf("handler's reply was changed: %v", a.last)
			}
		}
		st := l.Stats()
		n := count(tc.want)
		if st.Answered != 5 || st.Dropped != uint64(n["drop"]) || st.Slipped != uint64(n["tc"]) {
			t.Errorf("slip %d: stats %+v", tc.slip, st)
		}
	}
}

// TestWindow: BIND's credit window. A prefix flooding past the rate falls up
// to Window seconds of credit into debt and earns ResponsesPerSecond back per
// second; an entry idle for more than Window starts afresh.
func TestWindow(t *testing.T) {
	t.Parallel()
	h, _, c := newRRL(t, Config{Slip: NoSlip}, &answerer{})
	flood := func(n int) map[string]int {
		var got []string
		for range n {
			got = append(got, outcome(ask(h, "udp", "192.0.2.1", "example.com.", dns.TypeA)))
		}
		return count(got)
	}
	// 100 queries in the first second: 5 answered, debt floors at -75.
	if n := flood(100); n["answer"] != 5 {
		t.Fatalf("first second: %v", n)
	}
	// 14 quiet seconds repay 70: still 5 in debt, so nothing is answered.
	c.advance(14 * time.Second)
	if n := flood(1); n["answer"] != 0 {
		t.Errorf("14 s after the flood: %v, want still limited", n)
	}
	// One more second (the failed query cost 1): -6 + 5 = -1, still limited.
	c.advance(time.Second)
	if n := flood(1); n["answer"] != 0 {
		t.Errorf("15 s after the flood: %v, want still limited", n)
	}
	// More than Window seconds of silence: a fresh start.
	c.advance(16 * time.Second)
	if n := flood(6); n["answer"] != 5 {
		t.Errorf("after %v idle: %v, want 5 answers", 16*time.Second, n)
	}
	// A client keeping to the rate is never limited.
	c.advance(16 * time.Second)
	for range 30 {
		c.advance(time.Second)
		if n := flood(5); n["answer"] != 5 {
			t.Fatalf("steady 5/s: %v", n)
		}
	}
	// A shorter window forgives sooner.
	h2, _, c2 := newRRL(t, Config{Slip: NoSlip, Window: 2 * time.Second}, &answerer{})
	for range 100 {
		ask(h2, "udp", "192.0.2.1", "example.com.", dns.TypeA)
	}
	c2.advance(3 * time.Second)
	if o := outcome(ask(h2, "udp", "192.0.2.1", "example.com.", dns.TypeA)); o != "answer" {
		t.Errorf("window 2 s, 3 s later: %s, want answer", o)
	}
}

// TestTableBound: 100,000 distinct prefixes do not grow the table past
// MaxEntries, and the most recent entries are the ones kept.
func TestTableBound(t *testing.T) {
	t.Parallel()
	_, l, _ := newRRL(t, Config{}, &answerer{})
	key := Key{Class: Positive, Name: "example.com.", Type: dns.TypeDNSKEY}
	for i := range 100000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), 1})
		if i%2 == 1 {
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 16), byte(i >> 8), byte(i)})
		}
		l.decide(a, key)
		if i%10000 == 0 {
			if n := l.Stats().Entries; n > defaultMaxEntries {
				t.Fatalf("after %d prefixes the table has %d entries", i+1, n)
			}
		}
	}
	if n := l.Stats().Entries; n != defaultMaxEntries {
		t.Errorf("table has %d entries, want exactly %d", n, defaultMaxEntries)
	}
	// The LRU list and the map agree.
	n := 0
	for e := l.lru.next; e != &l.lru; e = e.next {
		if l.table[e.account] != e {
			t.Fatal("list entry missing from the map")
		}
		n++
	}
	if n != len(l.table) {
		t.Errorf("list has %d entries, map %d", n, len(l.table))
	}
	// The last prefix is still tracked: 5 more of it and it is limited.
	i := 99999
	last := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 16), byte(i >> 8), byte(i)})
	for range 4 {
		l.decide(last, key)
	}
	if a := l.decide(last, key); a == Answer {
		t.Error("most recent entry was evicted")
	}
}

// validWriter marks a query as carrying a valid cookie, as internal/cookie's
// writer does.
type validWriter struct {
	dns.ResponseWriter
	valid bool
}

func (w *validWriter) ValidCookie() bool { return w.valid }

// wrapper is a middleware's writer that hides the marker behind Unwrap.
type wrapper struct{ dns.ResponseWriter }

func (w *wrapper) Unwrap() dns.ResponseWriter { return w.ResponseWriter }

func TestCookieExemption(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		wrap  func(dns.ResponseWriter) dns.ResponseWriter
		limit bool
	}{
		{"valid cookie", func(w dns.ResponseWriter) dns.ResponseWriter { return &validWriter{w, true} }, false},
		{"valid cookie behind another writer", func(w dns.ResponseWriter) dns.ResponseWriter { return &wrapper{&validWriter{w, true}} }, false},
		{"invalid cookie", func(w dns.ResponseWriter) dns.ResponseWriter { return &validWriter{w, false} }, true},
		{"no marker", func(w dns.ResponseWriter) dns.ResponseWriter { return &wrapper{w} }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, l, _ := newRRL(t, Config{}, &answerer{})
			answered := 0
			for range 50 {
				rec := dnstest.NewRecorder("udp")
				rec.Remote = &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}
				h.ServeDNS(tc.wrap(rec), dnstest.Query("example.com.", dns.TypeA))
				if outcome(rec) == "answer" {
					answered++
				}
			}
			if limited := answered < 50; limited != tc.limit {
				t.Errorf("answered %d of 50; want limited %v", answered, tc.limit)
			}
			if st := l.Stats(); !tc.limit && (st.Exempt != 50 || st.Entries != 0) {
				t.Errorf("stats %+v, want 50 exempt and no entries", st)
			}
		})
	}
}

func TestTCPExempt(t *testing.T) {
	t.Parallel()
	h, l, _ := newRRL(t, Config{}, &answerer{})
	for i := range 50 {
		if o := outcome(ask(h, "tcp", "192.0.2.1", "example.com.", dns.TypeA)); o != "answer" {
			t.Fatalf("TCP query %d: %s", i, o)
		}
	}
	if st := l.Stats(); st.Exempt != 50 || st.Answered != 0 {
		t.Errorf("stats %+v", st)
	}
	// The handler still sees TCP.
	var seen string
	tcpSeen := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		seen = w.(interface{ Network() string }).Network()
	})
	mw, _, _ := New(Config{})
	mw(tcpSeen).ServeDNS(dnstest.NewRecorder("tcp"), dnstest.Query("example.com.", dns.TypeA))
	if seen != "tcp" {
		t.Errorf("handler saw %q, want tcp", seen)
	}
}

func TestDisabledAndLogOnly(t *testing.T) {
	t.Parallel()
	h, l, _ := newRRL(t, Config{Disabled: true}, &answerer{})
	for range 50 {
		if o := outcome(ask(h, "udp", "192.0.2.1", "example.com.", dns.TypeA)); o != "answer" {
			t.Fatalf("disabled: %s", o)
		}
	}
	if st := l.Stats(); st != (Stats{}) {
		t.Errorf("disabled counted %+v", st)
	}
	h, l, _ = newRRL(t, Config{LogOnly: true}, &answerer{})
	for range 50 {
		if o := outcome(ask(h, "udp", "192.0.2.1", "example.com.", dns.TypeA)); o != "answer" {
			t.Fatalf("log only: %s", o)
		}
	}
	if st := l.Stats(); st.Answered != 5 || st.Dropped+st.Slipped != 45 {
		t.Errorf("log only counted %+v, want what would have happened", st)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{ResponsesPerSecond: -1},
		{ResponsesPerSecond: 1001},
		{Window: time.Millisecond},
		{Window: 2 * time.Hour},
		{Slip: 11},
		{Slip: -2},
		{IPv4PrefixLen: 33},
		{IPv6PrefixLen: 129},
		{MaxEntries: -1},
	} {
		if _, _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", cfg, err)
		}
	}
	_, l, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := l.cfg
	if got.ResponsesPerSecond != 5 || got.Window != 15*time.Second || got.Slip != 2 || got.IPv4PrefixLen != 24 ||
		got.IPv6PrefixLen != 56 || got.MaxEntries != 20000 || got.Now == nil || got.Disabled || got.LogOnly {
		t.Errorf("zero Config became %+v, want LIMITS.md defaults", got)
	}
}

// TestConcurrent runs the limiter from many goroutines (for -race).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	stateless := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		_ = w.WriteMsg(m)
	})
	h, l, _ := newRRL(t, Config{MaxEntries: 100}, stateless)
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 500 {
				ask(h, "udp", net.IPv4(10, byte(g), byte(i), 1).String(), "example.com.", dns.TypeA)
				_ = l.Stats()
			}
		}()
	}
	for range 8 {
		<-done
	}
	if st := l.Stats(); st.Answered+st.Dropped+st.Slipped != 4000 || st.Entries > 100 {
		t.Errorf("stats %+v", st)
	}
}

// TestWireWrites: a handler that writes wire bytes is limited the same way,
// and bytes that do not unpack count as an error response.
func TestWireWrites(t *testing.T) {
	t.Parallel()
	raw := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(192, 0, 2, 1)}}
		b, _ := m.Pack()
		_, _ = w.Write(b)
	})
	h, _, _ := newRRL(t, Config{Slip: 1}, raw)
	var got []string
	for range 7 {
		got = append(got, outcome(ask(h, "udp", "192.0.2.1", "example.com.", dns.TypeA)))
	}
	if n := count(got); n["answer"] != 5 || n["tc"] != 2 {
		t.Errorf("wire writes: %v", got)
	}
	junk := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) { _, _ = w.Write([]byte{1, 2, 3}) })
	h, l, _ := newRRL(t, Config{}, junk)
	for range 10 {
		ask(h, "udp", "192.0.2.1", "example.com.", dns.TypeA)
	}
	if st := l.Stats(); st.Answered != 5 || st.Dropped+st.Slipped != 5 {
		t.Errorf("junk writes: %+v", st)
	}
	// Exempt wire writes pass.
	h, l, _ = newRRL(t, Config{}, raw)
	for range 10 {
		ask(h, "tcp", "192.0.2.1", "example.com.", dns.TypeA)
	}
	if st := l.Stats(); st.Exempt != 10 {
		t.Errorf("exempt wire writes: %+v", st)
	}
}
