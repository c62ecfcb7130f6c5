package auth

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/ratelimit"
)

// rrlQueries are the queries of the rate limiting tests: several keys
// (positive by name and type, NXDOMAIN by zone, a referral), two of them
// sharing one key in different cases, with and without EDNS and DO.
func rrlQueries(t testing.TB) []*dns.Msg {
	return []*dns.Msg{
		ask(t, "www.example. A"), ask(t, "WWW.example. A"),
		dnstest.EDNS(ask(t, "www.example. AAAA"), 1232, true),
		ask(t, "nx.example. A"), dnstest.EDNS(ask(t, "other.example. TXT"), 1232, false),
		ask(t, "host.child.example. A"),
	}
}

// TestRawHandlerRateLimit: with a Limiter, RawHandler sends over UDP what
// the engine behind the ratelimit middleware sends for the same sequence
// of queries at the same times, octet for octet: the answers, nothing for
// drops, and the same TC=1 slip replies; and the counters agree.
func TestRawHandlerRateLimit(t *testing.T) {
	t.Parallel()
	s := exampleServer(t)
	now := time.Unix(1700000000, 0)
	cfg := ratelimit.Config{Now: func() time.Time { return now }}
	mw, viaMiddleware, err := ratelimit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	slow := mw(s)
	limiter := mustLimiter(t, cfg)
	f := NewFastPathWith(s, FastPathConfig{Limiter: limiter})
	queries := rrlQueries(t)
	wires := make([][]byte, len(queries))
	for i, q := range queries {
		wires[i] = pack(t, q)
		if _, ok := fastWire(f, wires[i], "udp"); !ok {
			t.Fatalf("%v: fast path declined", q.Question[0])
		}
	}
	clients := []*net.UDPAddr{
		{IP: net.IPv4(192, 0, 2, 1), Port: 5300},
		{IP: net.IPv4(192, 0, 2, 200), Port: 5301}, // the same /24
		{IP: net.IPv4(198, 51, 100, 7), Port: 5302},
	}
	seen := map[string]int{}
	out := make([]byte, 0, 4096)
	for step := range 600 {
		if step%11 == 0 {
			now = now.Add(400 * time.Millisecond)
		}
		i, client := step%len(queries), clients[step/len(queries)%len(clients)]
		rec := dnstest.NewRecorder("udp")
		rec.Remote = client
		slow.ServeDNS(rec, queries[i].Copy())
		got, ok := f.RawHandler(wires[i], "udp", client, out)
		if !ok {
			t.Fatalf("step %d, %v: fast path declined", step, queries[i].Question[0])
		}
		if !bytes.Equal(got, rec.Wire) {
			t.Fatalf("step %d, %v from %v: fast path sent %x, middleware %x", step, queries[i].Question[0], client.IP, got, rec.Wire)
		}
		switch {
		case len(got) == 0:
			seen["drop"]++
		case rec.Msg.Truncated:
			seen["slip"]++
			if len(got) > len(wires[i]) {
				t.Errorf("slip reply of %d octets to a query of %d", len(got), len(wires[i]))
			}
		default:
			seen["answer"]++
		}
	}
	if seen["drop"] == 0 || seen["slip"] == 0 || seen["answer"] == 0 {
		t.Errorf("the sequence did not exercise every action: %v", seen)
	}
	if a, b := viaMiddleware.Stats(), limiter.Stats(); a != b {
		t.Errorf("counters differ: middleware %+v, fast path %+v", a, b)
	}
	t.Logf("outcomes %v, stats %+v", seen, limiter.Stats())
}

// TestRawHandlerTCPExempt: TCP replies are never limited, and counted as
// exempt; with TCPOnly the fast path leaves UDP to the middleware.
func TestRawHandlerTCPExempt(t *testing.T) {
	t.Parallel()
	s := exampleServer(t)
	limiter := mustLimiter(t, ratelimit.Config{})
	f := NewFastPathWith(s, FastPathConfig{Limiter: limiter})
	wire := pack(t, ask(t, "www.example. A"))
	fastWire(f, wire, "tcp")
	client := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5300}
	for i := range 50 {
		got, ok := f.RawHandler(wire, "tcp", client, nil)
		if want, _ := slowWire(t, s, wire, "tcp"); !ok || !bytes.Equal(got, want) {
			t.Fatalf("tcp query %d: %x, %v; want the full answer", i, got, ok)
		}
	}
	if st := limiter.Stats(); st.Exempt != 50 || st.Answered+st.Dropped+st.Slipped != 0 {
		t.Errorf("stats %+v, want 50 exempt", st)
	}

	only := NewFastPathWith(s, FastPathConfig{Limiter: limiter, TCPOnly: true})
	if _, ok := fastWire(only, wire, "udp"); ok {
		t.Error("TCPOnly fast path answered over UDP")
	}
	if _, ok := fastWire(only, wire, "tcp"); !ok {
		t.Error("TCPOnly fast path declined over TCP")
	}
}

// TestRawHandlerDisabledLimiter: a disabled Limiter lets everything
// through and counts nothing.
func TestRawHandlerDisabledLimiter(t *testing.T) {
	t.Parallel()
	s := exampleServer(t)
	limiter := mustLimiter(t, ratelimit.Config{Disabled: true})
	f := NewFastPathWith(s, FastPathConfig{Limiter: limiter})
	wire := pack(t, ask(t, "www.example. A"))
	fastWire(f, wire, "udp")
	want, _ := slowWire(t, s, wire, "udp")
	for i := range 100 {
		if got, ok := f.RawHandler(wire, "udp", &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1)}, nil); !ok || !bytes.Equal(got, want) {
			t.Fatalf("query %d: %x, %v; want the answer", i, got, ok)
		}
	}
	if st := limiter.Stats(); st != (ratelimit.Stats{}) {
		t.Errorf("disabled limiter counted %+v", st)
	}
}

func mustLimiter(t testing.TB, cfg ratelimit.Config) *ratelimit.Limiter {
	t.Helper()
	_, l, err := ratelimit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
