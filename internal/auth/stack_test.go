package auth

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/cookie"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/ratelimit"
)

// serveStack does for one query what internal/server does with a Stack:
// RawHandler first, Handler for what it declines. It returns the reply
// sent, or nil for none.
func serveStack(t *testing.T, st *Stack, q *dns.Msg, network string, client net.IP) *dns.Msg {
	t.Helper()
	wire := pack(t, q)
	var remote net.Addr = &net.UDPAddr{IP: client, Port: 5300}
	if network == "tcp" {
		remote = &net.TCPAddr{IP: client, Port: 5300}
	}
	if st.RawHandler != nil {
		if reply, ok := st.RawHandler(wire, network, remote, nil); ok {
			if len(reply) == 0 {
				return nil
			}
			m := new(dns.Msg)
			if err := m.Unpack(reply); err != nil {
				t.Fatalf("raw reply does not unpack: %v", err)
			}
			return m
		}
	}
	rec := dnstest.NewRecorder(network)
	rec.Remote = remote
	st.Handler.ServeDNS(rec, q)
	return rec.Msg
}

// outcomeOf names what a client got: "answer", "tc" or "drop".
func outcomeOf(m *dns.Msg) string {
	switch {
	case m == nil:
		return "drop"
	case m.Truncated:
		return "tc"
	}
	return "answer"
}

func newStack(t *testing.T, cfg StackConfig) *Stack {
	t.Helper()
	st, err := NewStack(exampleServer(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestStackDefaults: the zero StackConfig limits a flood over UDP on both
// paths alike (5 answers, then drop, slip, drop, slip...), lets TCP and
// clients with a valid server cookie through, and offers cookies.
func TestStackDefaults(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	st := newStack(t, StackConfig{
		RRL:     ratelimit.Config{Now: func() time.Time { return now }},
		Cookies: cookie.Config{Now: func() time.Time { return now }},
	})
	if st.RawHandler == nil || st.FastPath == nil || st.Limiter == nil {
		t.Fatalf("zero StackConfig: %+v, want fast path and limiter", st)
	}
	victim := net.IPv4(192, 0, 2, 1)
	// www A goes the fast path once compiled, www TXT with EDNS too; nx
	// with a cookie option never does.
	for _, spec := range []string{"www.example. A", "www.example. TXT"} {
		var got []string
		for range 11 {
			q := dnstest.EDNS(ask(t, spec), 1232, true)
			got = append(got, outcomeOf(serveStack(t, st, q, "udp", victim)))
		}
		want := "answer answer answer answer answer drop tc drop tc drop tc"
		if g := strings.Join(got, " "); g != want {
			t.Errorf("%s flood: %s\nwant %s", spec, g, want)
		}
	}
	if st.FastPath.cache.Load() == nil {
		t.Error("the flood never reached the fast path")
	}
	for i := range 10 {
		if m := serveStack(t, st, ask(t, "www.example. A"), "tcp", victim); outcomeOf(m) != "answer" {
			t.Fatalf("tcp query %d: %s", i, outcomeOf(m))
		}
	}
	jar, err := cookie.NewClientJar(cookie.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// A client of the victim's /24 learns a server cookie over TCP; with
	// it, its UDP queries are exempt from the limit the flood exhausted.
	server := netip.MustParseAddr("127.0.0.1")
	learn := ask(t, "www.example. A")
	jar.Prepare(learn, server)
	if err := jar.Check(serveStack(t, st, learn, "tcp", victim), server); err != nil {
		t.Fatalf("learning a cookie over TCP: %v", err)
	}
	for i := range 10 {
		q := ask(t, "www.example. A")
		jar.Prepare(q, server)
		m := serveStack(t, st, q, "udp", victim)
		if outcomeOf(m) != "answer" {
			t.Fatalf("cookie query %d: %s", i, outcomeOf(m))
		}
		if err := jar.Check(m, server); err != nil {
			t.Fatalf("cookie query %d: %v", i, err)
		}
	}
	stats := st.Limiter.Stats()
	if stats.Answered != 10 || stats.Dropped == 0 || stats.Slipped == 0 || stats.Exempt < 18 {
		t.Errorf("stats %+v: want 10 answered, drops, slips, tcp and cookie queries exempt", stats)
	}
}

// TestStackRequireCookies: with Cookies.Require a cookie-less UDP query is
// answered TC=1 by the cookie middleware, even for a name the fast path
// has compiled; TCP still takes the fast path.
func TestStackRequireCookies(t *testing.T) {
	t.Parallel()
	st := newStack(t, StackConfig{Cookies: cookie.Config{Require: true}})
	for i := range 5 {
		if m := serveStack(t, st, ask(t, "www.example. A"), "udp", net.IPv4(192, 0, 2, 1)); outcomeOf(m) != "tc" {
			t.Fatalf("cookie-less udp query %d: %s, want tc", i, outcomeOf(m))
		}
		if m := serveStack(t, st, ask(t, "www.example. A"), "tcp", net.IPv4(192, 0, 2, 1)); outcomeOf(m) != "answer" {
			t.Fatalf("tcp query %d: %s", i, outcomeOf(m))
		}
	}
	if _, ok := st.FastPath.AnswerRaw(pack(t, ask(t, "www.example. A")), "tcp", nil); !ok {
		t.Error("the fast path does not serve TCP")
	}
}

// TestStackOff: each defence can be turned off.
func TestStackOff(t *testing.T) {
	t.Parallel()
	st := newStack(t, StackConfig{RRL: ratelimit.Config{Disabled: true}, DisableCookies: true, DisableFastPath: true})
	if st.RawHandler != nil || st.FastPath != nil {
		t.Error("DisableFastPath: the stack has a fast path")
	}
	for i := range 30 {
		q := ask(t, "www.example. A")
		jarless := dnstest.EDNS(q, 1232, false, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
		m := serveStack(t, st, jarless, "udp", net.IPv4(192, 0, 2, 1))
		if outcomeOf(m) != "answer" {
			t.Fatalf("query %d with RRL off: %s", i, outcomeOf(m))
		}
		if o, found, _ := cookie.FromMsg(m); found {
			t.Fatalf("cookies off, but the reply has one: %+v", o)
		}
	}
	if s := st.Limiter.Stats(); s != (ratelimit.Stats{}) {
		t.Errorf("disabled RRL counted %+v", s)
	}
	fast := newStack(t, StackConfig{RRL: ratelimit.Config{Disabled: true}})
	for i := range 30 {
		if m := serveStack(t, fast, ask(t, "www.example. A"), "udp", net.IPv4(192, 0, 2, 1)); outcomeOf(m) != "answer" {
			t.Fatalf("fast path query %d with RRL off: %s", i, outcomeOf(m))
		}
	}
	if _, err := NewStack(exampleServer(t), StackConfig{RRL: ratelimit.Config{Slip: 99}}); !errors.Is(err, ratelimit.ErrConfig) {
		t.Errorf("bad RRL config: %v, want ratelimit.ErrConfig", err)
	}
}
