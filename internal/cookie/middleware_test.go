package cookie

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/dnstest"
)

var (
	testSecret = [16]byte{0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f, 0x48, 0xe7, 0xdc, 0x84, 0x9e, 0x37, 0xbf, 0xcf}
	testClient = [8]byte{0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57}
	testT0     = time.Unix(1559731985, 0)
)

const testIP = "198.51.100.100"

// issued returns the COOKIE option, in hex, a client at testIP would send
// after being issued a cookie with secret at time at.
func issued(secret [16]byte, at time.Time) string {
	sc := serverCookie(&secret, testClient, [3]byte{}, uint32(at.Unix()), netip.MustParseAddr(testIP))
	return hex.EncodeToString(append(testClient[:], sc[:]...))
}

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// TestTimestampWindow pins RFC 9018 §4.3 as LIMITS.md binds it: valid from
// one hour old to five minutes ahead, inclusive; reissued when more than 30
// minutes old.
func TestTimestampWindow(t *testing.T) {
	t.Parallel()
	sent := issued(testSecret, testT0)
	for _, tc := range []struct {
		name    string
		now     time.Time
		valid   bool
		reissue bool // the reply carries a different server cookie
	}{
		{"just issued", testT0, true, false},
		{"30 minutes old: echoed", testT0.Add(30 * time.Minute), true, false},
		{"30 minutes and 1 s old: reissued", testT0.Add(30*time.Minute + time.Second), true, true},
		{"exactly 1 hour old", testT0.Add(time.Hour), true, true},
		{"1 hour and 1 s old", testT0.Add(time.Hour + time.Second), false, true},
		{"5 minutes ahead", testT0.Add(-5 * time.Minute), true, false},
		{"5 minutes and 1 s ahead", testT0.Add(-5*time.Minute - time.Second), false, true},
		{"a day old", testT0.Add(24 * time.Hour), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reply, valid := exchange(t, Config{Secret: testSecret, Now: at(tc.now)}, "udp", testIP, sent)
			if valid != tc.valid {
				t.Errorf("ValidCookie() = %v, want %v", valid, tc.valid)
			}
			got := cookieHex(t, reply)
			if (got != sent) != tc.reissue {
				t.Errorf("reply cookie %s, sent %s, want reissue %v", got, sent, tc.reissue)
			}
			if tc.reissue && got != issued(testSecret, tc.now) {
				t.Errorf("reissued cookie %s, want a fresh one stamped now: %s", got, issued(testSecret, tc.now))
			}
		})
	}
}

// TestTimestampWrap: serial number arithmetic (RFC 1982) makes the window
// work across the 2106 wrap of the 32-bit timestamp.
func TestTimestampWrap(t *testing.T) {
	t.Parallel()
	issuedAt := time.Unix(1<<32-60, 0) // a minute before the wrap
	now := issuedAt.Add(10 * time.Minute)
	_, valid := exchange(t, Config{Secret: testSecret, Now: at(now)}, "udp", testIP, issued(testSecret, issuedAt))
	if !valid {
		t.Error("cookie issued a minute before the 32-bit wrap is invalid ten minutes later")
	}
}

// TestRollover: a cookie made with the previous secret is accepted and
// answered with one made with the new secret; with no previous secret set
// it is invalid.
func TestRollover(t *testing.T) {
	t.Parallel()
	oldSecret := [16]byte{0xdd, 0x3b}
	newSecret := [16]byte{0x44, 0x55}
	sent := issued(oldSecret, testT0)
	now := testT0.Add(time.Minute)

	reply, valid := exchange(t, Config{Secret: newSecret, PreviousSecret: oldSecret, Now: at(now)}, "udp", testIP, sent)
	if !valid {
		t.Error("cookie made with the previous secret: not valid during rollover")
	}
	if got, want := cookieHex(t, reply), issued(newSecret, now); got != want {
		t.Errorf("reply cookie %s, want one made with the new secret %s", got, want)
	}
	// The new cookie verifies under the new secret alone.
	if _, valid := exchange(t, Config{Secret: newSecret, Now: at(now)}, "udp", testIP, cookieHex(t, reply)); !valid {
		t.Error("the reissued cookie does not verify under the new secret")
	}
	// Rollover over: the old cookie is no longer valid.
	if _, valid := exchange(t, Config{Secret: newSecret, Now: at(now)}, "udp", testIP, sent); valid {
		t.Error("cookie made with a retired secret is still valid")
	}
}

// TestCookieBinding: a Server Cookie is bound to the client's address and
// Client Cookie.
func TestCookieBinding(t *testing.T) {
	t.Parallel()
	sent := issued(testSecret, testT0)
	cfg := Config{Secret: testSecret, Now: at(testT0)}
	if _, valid := exchange(t, cfg, "udp", "198.51.100.101", sent); valid {
		t.Error("cookie valid from another address")
	}
	other := "ff" + sent[2:]
	reply, valid := exchange(t, cfg, "udp", testIP, other)
	if valid {
		t.Error("cookie valid with another client cookie")
	}
	if got := cookieHex(t, reply); !strings.HasPrefix(got, "ff"+sent[2:16]) {
		t.Errorf("reply cookie %s does not echo the client cookie", got)
	}
	// IPv4 mapped into IPv6 is the same client.
	if _, valid := exchange(t, cfg, "udp", "::ffff:"+testIP, sent); !valid {
		t.Error("cookie invalid from the IPv4-mapped form of the same address")
	}
}

func TestServerBehaviour(t *testing.T) {
	t.Parallel()
	valid := issued(testSecret, testT0)
	clientOnly := hex.EncodeToString(testClient[:])
	invalid := clientOnly + "01000000" + "5cf79f11" + "0000000000000000"
	foreign := clientOnly + "0102030405060708" // an 8-byte cookie of another server
	fresh := issued(testSecret, testT0)
	for _, tc := range []struct {
		name       string
		require    bool
		network    string
		cookie     string
		rcode      int
		tc         bool
		answered   bool   // the handler ran and its answer came back
		wantCookie string // "" for none
		validSeen  bool
	}{
		{"no OPT", false, "udp", "-", dns.RcodeSuccess, false, true, "", false},
		{"OPT without cookie", false, "udp", "", dns.RcodeSuccess, false, true, "", false},
		{"client cookie only", false, "udp", clientOnly, dns.RcodeSuccess, false, true, fresh, false},
		{"valid server cookie", false, "udp", valid, dns.RcodeSuccess, false, true, valid, true},
		{"invalid server cookie", false, "udp", invalid, dns.RcodeSuccess, false, true, fresh, false},
		{"foreign server cookie", false, "udp", foreign, dns.RcodeSuccess, false, true, fresh, false},

		{"require: no OPT over UDP", true, "udp", "-", dns.RcodeSuccess, true, false, "", false},
		{"require: no cookie over UDP", true, "udp", "", dns.RcodeSuccess, true, false, "", false},
		{"require: client cookie only over UDP", true, "udp", clientOnly, dns.RcodeBadCookie, false, false, fresh, false},
		{"require: invalid cookie over UDP", true, "udp", invalid, dns.RcodeBadCookie, false, false, fresh, false},
		{"require: valid cookie over UDP", true, "udp", valid, dns.RcodeSuccess, false, true, valid, true},
		{"require: no OPT over TCP", true, "tcp", "-", dns.RcodeSuccess, false, true, "", false},
		{"require: no cookie over TCP", true, "tcp", "", dns.RcodeSuccess, false, true, "", false},
		{"require: client cookie only over TCP", true, "tcp", clientOnly, dns.RcodeSuccess, false, true, fresh, false},
		{"require: invalid cookie over TCP", true, "tcp", invalid, dns.RcodeSuccess, false, true, fresh, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reply, h := exchangeH(t, Config{Secret: testSecret, Now: at(testT0), Require: tc.require}, tc.network, testIP, tc.cookie)
			if reply.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[reply.Rcode], dns.RcodeToString[tc.rcode])
			}
			if reply.Truncated != tc.tc {
				t.Errorf("TC=%v, want %v", reply.Truncated, tc.tc)
			}
			if answered := h.called == 1 && len(reply.Answer) == 1; answered != tc.answered {
				t.Errorf("answered %v, want %v (handler called %d times)", answered, tc.answered, h.called)
			}
			if !tc.answered && len(reply.Question) != 1 {
				t.Errorf("middleware reply has %d questions, want the query's", len(reply.Question))
			}
			if got := cookieHex(t, reply); got != tc.wantCookie {
				t.Errorf("reply cookie %q, want %q", got, tc.wantCookie)
			}
			if h.valid != tc.validSeen {
				t.Errorf("handler saw ValidCookie() = %v, want %v", h.valid, tc.validSeen)
			}
		})
	}
}

// TestFORMERR: a COOKIE option of the wrong length gets FORMERR without the
// handler running (RFC 7873 §5.2.2); lengths 8 and 16 to 40 are well formed.
func TestFORMERR(t *testing.T) {
	t.Parallel()
	for n := 0; n <= 48; n++ {
		cookie := strings.Repeat("ab", n)
		wellFormed := n == 8 || n >= 16 && n <= 40
		if n == 0 {
			cookie = "" // an empty option, not "no option"
		}
		mw, err := New(Config{Secret: testSecret, Now: at(testT0)})
		if err != nil {
			t.Fatal(err)
		}
		h := &echo{}
		q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeA), 1232, false, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
		reply := dnstest.Exchange(t, mw(h), q, "udp")
		if got := reply.Rcode == dns.RcodeFormatError; got == wellFormed {
			t.Errorf("%d-byte COOKIE option: rcode %s", n, dns.RcodeToString[reply.Rcode])
		}
		if !wellFormed && (h.called != 0 || len(reply.Answer) != 0 || cookieHex(t, reply) != "") {
			t.Errorf("%d-byte COOKIE option: FORMERR reply with answers or a cookie, or the handler ran", n)
		}
	}
	// Two COOKIE options.
	mw, _ := New(Config{Secret: testSecret})
	c := hex.EncodeToString(testClient[:])
	q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeA), 1232, false,
		&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: c}, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: c})
	if reply := dnstest.Exchange(t, mw(&echo{}), q, "udp"); reply.Rcode != dns.RcodeFormatError {
		t.Errorf("two COOKIE options: rcode %s, want FORMERR", dns.RcodeToString[reply.Rcode])
	}
}

// TestBADVERSPassesThrough: an EDNS version other than 0 is the handler's to
// answer (BADVERS); the middleware adds nothing.
func TestBADVERSPassesThrough(t *testing.T) {
	t.Parallel()
	mw, _ := New(Config{Secret: testSecret})
	q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeA), 1232, false, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102"})
	q.IsEdns0().SetVersion(1)
	h := &echo{}
	reply := dnstest.Exchange(t, mw(h), q, "udp")
	if h.called != 1 || cookieHex(t, reply) != "" {
		t.Errorf("EDNS version 1: handler called %d times, reply cookie %q", h.called, cookieHex(t, reply))
	}
}

// TestReplyNotMutated: the middleware copies the handler's reply before
// adding its option (STYLE.md rule 2).
func TestReplyNotMutated(t *testing.T) {
	t.Parallel()
	reply, h := exchangeH(t, Config{Secret: testSecret, Now: at(testT0)}, "udp", testIP, hex.EncodeToString(testClient[:]))
	if cookieHex(t, reply) == "" {
		t.Fatal("no cookie in the reply")
	}
	if opt := h.last.IsEdns0(); opt == nil || len(opt.Option) != 0 {
		t.Errorf("handler's own reply was changed: OPT %v", opt)
	}
}

// big answers with records totalling about size bytes.
type big struct{ size int }

func (b big) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	txt := strings.Repeat("x", 200)
	for m.Len() < b.size-250 {
		m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{txt}})
	}
	m.SetEdns0(1232, false)
	_ = w.WriteMsg(m)
}

// TestCookieOverflowTruncates: a UDP reply that fitted the client's limit but
// would not with the COOKIE option is sent TC=1 with the cookie.
func TestCookieOverflowTruncates(t *testing.T) {
	t.Parallel()
	mw, _ := New(Config{Secret: testSecret, Now: at(testT0)})
	var inner *dns.Msg
	capture := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		// A reply of 1222 bytes: it fits 1232, but not with a 28-byte COOKIE.
		m := new(dns.Msg)
		m.SetReply(r)
		m.SetEdns0(1232, false)
		txt := &dns.TXT{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET}}
		m.Answer = []dns.RR{txt}
		for _, n := range []int{200, 200, 200, 200, 200} {
			txt.Txt = append(txt.Txt, strings.Repeat("x", n))
		}
		txt.Txt = append(txt.Txt, strings.Repeat("x", 1222-m.Len()-1))
		inner = m
		_ = w.WriteMsg(m)
	})
	q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeTXT), 4096, false, Option{Client: testClient}.EDNS0())
	reply := dnstest.Exchange(t, mw(capture), q, "udp")
	if inner.Len() != 1222 {
		t.Fatalf("test reply is %d bytes, want 1222", inner.Len())
	}
	if !reply.Truncated || len(reply.Answer) != 0 || cookieHex(t, reply) == "" {
		t.Errorf("reply TC=%v, %d answers, cookie %q; want TC, none, a cookie", reply.Truncated, len(reply.Answer), cookieHex(t, reply))
	}
	// Over TCP nothing is truncated.
	reply = dnstest.Exchange(t, mw(capture), q, "tcp")
	if reply.Truncated || len(reply.Answer) == 0 {
		t.Errorf("TCP reply truncated")
	}
	// A reply the handler sends bigger than the limit on purpose keeps its
	// size: the handler owns that policy.
	reply = dnstest.Exchange(t, mw(big{3000}), q, "udp")
	if reply.Truncated || len(reply.Answer) == 0 {
		t.Errorf("handler's oversized reply was truncated")
	}
}

// TestWriterNetwork: handlers behind the middleware still see the transport.
func TestWriterNetwork(t *testing.T) {
	t.Parallel()
	mw, _ := New(Config{Secret: testSecret})
	for _, network := range []string{"udp", "tcp"} {
		var seen string
		h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			seen = w.(interface{ Network() string }).Network()
			m := new(dns.Msg)
			m.SetReply(r)
			_ = w.WriteMsg(m)
		})
		q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeA), 1232, false, Option{Client: testClient}.EDNS0())
		dnstest.Exchange(t, mw(h), q, network)
		if seen != network {
			t.Errorf("handler saw network %q, want %q", seen, network)
		}
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{Rand: bytes.NewReader(nil)}); !errors.Is(err, ErrConfig) {
		t.Errorf("New with an empty Rand and no secret: %v, want ErrConfig", err)
	}
	// Two zero configs draw different secrets.
	a, _ := New(Config{Now: at(testT0)})
	b, _ := New(Config{Now: at(testT0)})
	q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeA), 1232, false, Option{Client: testClient}.EDNS0())
	ca := cookieHex(t, dnstest.Exchange(t, a(&echo{}), q, "udp"))
	cb := cookieHex(t, dnstest.Exchange(t, b(&echo{}), q, "udp"))
	if ca == cb {
		t.Error("two default configs issue the same cookie")
	}
}

// TestJarAgainstServer runs the client and server sides together: the first
// query learns a cookie, the second is valid.
func TestJarAgainstServer(t *testing.T) {
	t.Parallel()
	jar, err := NewClientJar(ClientConfig{Secret: [16]byte{7}})
	if err != nil {
		t.Fatal(err)
	}
	server := netip.MustParseAddr("192.0.2.53")
	now := testT0
	mw, _ := New(Config{Secret: testSecret, Now: func() time.Time { return now }, Require: true})
	h := &echo{}
	send := func() *dns.Msg {
		q := dnstest.Query("example.com.", dns.TypeA)
		jar.Prepare(q, server)
		rec := dnstest.NewRecorder("udp")
		rec.Remote = &net.UDPAddr{IP: net.ParseIP(testIP), Port: 5353}
		mw(h).ServeDNS(rec, q)
		return rec.Msg
	}
	if err := jar.Check(send(), server); !errors.Is(err, ErrBadCookie) {
		t.Fatalf("first reply in Require mode: %v, want ErrBadCookie", err)
	}
	reply := send()
	if err := jar.Check(reply, server); err != nil || reply.Rcode != dns.RcodeSuccess || !h.valid {
		t.Fatalf("second reply: %v, rcode %s, valid %v", err, dns.RcodeToString[reply.Rcode], h.valid)
	}
	// Two hours on, the cookie is stale: BADCOOKIE again, then fine.
	now = now.Add(2 * time.Hour)
	if err := jar.Check(send(), server); !errors.Is(err, ErrBadCookie) {
		t.Fatalf("stale cookie: %v, want ErrBadCookie", err)
	}
	if err := jar.Check(send(), server); err != nil || !h.valid {
		t.Fatalf("after relearning: %v, valid %v", err, h.valid)
	}
}

// TestWireWrite: a handler writing wire bytes gets the cookie added too.
func TestWireWrite(t *testing.T) {
	t.Parallel()
	mw, _ := New(Config{Secret: testSecret, Now: at(testT0)})
	raw := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		b, _ := m.Pack()
		_, _ = w.Write(b)
	})
	q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeA), 1232, false, Option{Client: testClient}.EDNS0())
	reply := dnstest.Exchange(t, mw(raw), q, "udp")
	sc := serverCookie(&testSecret, testClient, [3]byte{}, uint32(testT0.Unix()), netip.MustParseAddr("127.0.0.1")) // the Recorder's client
	if got, want := cookieHex(t, reply), hex.EncodeToString(append(testClient[:], sc[:]...)); got != want {
		t.Errorf("cookie %q, want %q", got, want)
	}
}

// TestRequireBADVERS: an EDNS version the server does not speak is answered
// by the handler (BADVERS) even in Require mode.
func TestRequireBADVERS(t *testing.T) {
	t.Parallel()
	mw, _ := New(Config{Secret: testSecret, Require: true})
	q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeA), 1232, false)
	q.IsEdns0().SetVersion(1)
	h := &echo{}
	if reply := dnstest.Exchange(t, mw(h), q, "udp"); h.called != 1 || reply.Truncated {
		t.Errorf("EDNS version 1 with Require: handler called %d times, TC=%v", h.called, reply.Truncated)
	}
}
