package cookie

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func replyWith(q *dns.Msg, rcode int, opts ...dns.EDNS0) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(q, rcode)
	m.Extra = []dns.RR{&dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 1232}, Option: opts}}
	return m
}

// TestRFC7873ClientCookie pins the properties RFC 7873 §4.1 and Appendix A
// ask of a Client Cookie (it has no vectors): a keyed pseudorandom function of
// client address, server address and client secret, so it is stable per
// server, differs between servers and between clients, and changes with the
// secret.
func TestRFC7873ClientCookie(t *testing.T) {
	t.Parallel()
	s1 := netip.MustParseAddr("192.0.2.53")
	s2 := netip.MustParseAddr("2001:db8::53")
	a, _ := NewClientJar(ClientConfig{Secret: [16]byte{1}})
	b, _ := NewClientJar(ClientConfig{Secret: [16]byte{2}})
	c, _ := NewClientJar(ClientConfig{Secret: [16]byte{1}, LocalAddr: netip.MustParseAddr("198.51.100.100")})
	if first, again := a.ClientCookie(s1), a.ClientCookie(s1); first != again {
		t.Error("client cookie not stable")
	}
	if a.ClientCookie(s1) == a.ClientCookie(s2) {
		t.Error("same client cookie for two servers")
	}
	if a.ClientCookie(s1) == b.ClientCookie(s1) {
		t.Error("same client cookie under two secrets")
	}
	if a.ClientCookie(s1) == c.ClientCookie(s1) {
		t.Error("client address not mixed in")
	}
	if a.ClientCookie(s1) != a.ClientCookie(netip.MustParseAddr("::ffff:192.0.2.53")) {
		t.Error("IPv4-mapped server address gives another cookie")
	}
	// The definition: SipHash-2-4(Client IP | Server IP, Client Secret).
	key := [16]byte{1}
	want := sipHash24Bytes(&key, []byte{198, 51, 100, 100, 192, 0, 2, 53})
	if c.ClientCookie(s1) != want {
		t.Errorf("client cookie %x, want %x", c.ClientCookie(s1), want)
	}
}

func TestClientJar(t *testing.T) {
	t.Parallel()
	jar, err := NewClientJar(ClientConfig{Secret: [16]byte{3}})
	if err != nil {
		t.Fatal(err)
	}
	server := netip.MustParseAddr("192.0.2.53")
	other := netip.MustParseAddr("192.0.2.54")
	cc := jar.ClientCookie(server)

	q := new(dns.Msg)
	q.SetQuestion("example.com.", dns.TypeA)
	q.SetEdns0(1232, true)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0000000000000000"})
	jar.Prepare(q, server)
	o, found, err := FromMsg(q)
	if err != nil || !found || o.Client != cc || o.Server != nil {
		t.Fatalf("prepared query: %+v %v %v", o, found, err)
	}
	if !q.IsEdns0().Do() {
		t.Error("Prepare lost the DO bit")
	}

	// A server that does not speak cookies: accepted, nothing learned.
	if err := jar.Check(replyWith(q, dns.RcodeSuccess), server); err != nil {
		t.Errorf("reply without cookie from an unknown server: %v", err)
	}
	// Wrong client cookie: dropped.
	if err := jar.Check(replyWith(q, dns.RcodeSuccess, Option{Client: [8]byte{1}}.EDNS0()), server); !errors.Is(err, ErrClientCookieMismatch) {
		t.Errorf("wrong client cookie: %v", err)
	}
	// Malformed: dropped.
	bad := &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102"}
	if err := jar.Check(replyWith(q, dns.RcodeSuccess, bad), server); !errors.Is(err, ErrMalformed) {
		t.Errorf("malformed cookie: %v", err)
	}
	// A good echo: the server cookie is learned and sent next time.
	sc := bytes.Repeat([]byte{0xaa}, 16)
	if err := jar.Check(replyWith(q, dns.RcodeSuccess, Option{Client: cc, Server: sc}.EDNS0()), server); err != nil {
		t.Fatalf("good echo: %v", err)
	}
	q2 := new(dns.Msg)
	q2.SetQuestion("example.org.", dns.TypeA)
	jar.Prepare(q2, server)
	if o, _, _ := FromMsg(q2); !bytes.Equal(o.Server, sc) || o.Client != cc {
		t.Errorf("second query cookie %+v, want the learned one", o)
	}
	if q2.IsEdns0() == nil || q2.IsEdns0().UDPSize() != maxUDPPayload {
		t.Error("Prepare did not add an OPT record advertising 1232")
	}
	// Other servers are unaffected.
	q3 := new(dns.Msg)
	q3.SetQuestion("example.org.", dns.TypeA)
	jar.Prepare(q3, other)
	if o, _, _ := FromMsg(q3); o.Server != nil || o.Client == cc {
		t.Errorf("other server gets %+v", o)
	}
	// Now the server is known to speak cookies: a reply without one is forged.
	if err := jar.Check(replyWith(q, dns.RcodeSuccess), server); !errors.Is(err, ErrMissingCookie) {
		t.Errorf("cookie-less reply from a cookie-speaking server: %v", err)
	}
	// BADCOOKIE: learn and retry.
	sc2 := bytes.Repeat([]byte{0xbb}, 16)
	if err := jar.Check(replyWith(q, dns.RcodeBadCookie, Option{Client: cc, Server: sc2}.EDNS0()), server); !errors.Is(err, ErrBadCookie) {
		t.Errorf("BADCOOKIE: %v", err)
	}
	jar.Prepare(q2, server)
	if o, _, _ := FromMsg(q2); !bytes.Equal(o.Server, sc2) {
		t.Errorf("after BADCOOKIE the query carries %x, want %x", o.Server, sc2)
	}
	if n := len(q2.IsEdns0().Option); n != 1 {
		t.Errorf("Prepare twice: %d options, want 1", n)
	}
	jar.Forget(server)
	if err := jar.Check(replyWith(q, dns.RcodeSuccess), server); err != nil {
		t.Errorf("after Forget: %v", err)
	}
}

func TestClientJarBounded(t *testing.T) {
	t.Parallel()
	jar, _ := NewClientJar(ClientConfig{})
	sc := bytes.Repeat([]byte{1}, 8)
	for i := range maxJarServers + 100 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		jar.learn(a, sc)
	}
	if n := len(jar.known); n > maxJarServers {
		t.Errorf("jar holds %d servers, bound %d", n, maxJarServers)
	}
}

// FuzzCookieOption: the option parser never panics, accepts exactly the
// lengths RFC 7873 §4 allows, round-trips what it accepts, and whatever it
// accepts is safe to verify.
func FuzzCookieOption(f *testing.F) {
	for _, s := range []string{"", "0102030405060708", "2464c4abcf10c957010000005cf79f111f8130c3eee29480", "01"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	s := &secrets{current: [16]byte{1}, previous: [16]byte{2}, hasPrevious: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseOption(data)
		n := len(data)
		ok := n == 8 || n >= 16 && n <= 40
		if (err == nil) != ok {
			t.Fatalf("%d bytes: err %v", n, err)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !bytes.Equal(o.Bytes(), data) {
			t.Fatalf("round trip: %x -> %x", data, o.Bytes())
		}
		// Through a message and back.
		m := new(dns.Msg)
		m.SetQuestion("example.", dns.TypeA)
		m.Extra = []dns.RR{&dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}, Option: []dns.EDNS0{o.EDNS0()}}}
		wire, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		back := new(dns.Msg)
		if err := back.Unpack(wire); err != nil {
			t.Fatal(err)
		}
		o2, found, err := FromMsg(back)
		if err != nil || !found || !bytes.Equal(o2.Bytes(), data) {
			t.Fatalf("via message: %x %v %v", o2.Bytes(), found, err)
		}
		_ = s.check(o, netip.MustParseAddr("192.0.2.1"), testT0)
	})
}

// TestClientJarHexUnchanged checks that the jar's hex shortcut (parseHex,
// the option data kept per server) reads the option data exactly as
// FromMsg does: the same Option for every well-formed length in either
// case of hex, and ErrMalformed for the same bad data.
func TestClientJarHexUnchanged(t *testing.T) {
	t.Parallel()
	cases := []string{"", "01", "0102030405060708", "0102030405060708AABBCCDDEEFF0011",
		"0102030405060708aabbccddeeff0011", "0102030405060708aabbccddeeff00", "01020304050607zz",
		"0102030405060708" + strings.Repeat("ab", 32), "0102030405060708" + strings.Repeat("ab", 33), "010"}
	for _, data := range cases {
		m := replyWith(new(dns.Msg), dns.RcodeSuccess, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: data})
		want, _, wantErr := FromMsg(m)
		var buf [clientCookieLen + maxServerCookieLen]byte
		got, err := parseHex(&buf, data)
		if (err == nil) != (wantErr == nil) || err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err %v, FromMsg's %v", data, err, wantErr)
			continue
		}
		if got.Client != want.Client || !bytes.Equal(got.Server, want.Server) {
			t.Errorf("%q: %+v, FromMsg's %+v", data, got, want)
		}
	}
}

// TestClientJarLearnsOnlyNewCookies checks what the jar keeps per server:
// the option data sent is the Client Cookie and the last Server Cookie
// (replaced when the server sends another, an echo in upper case hex is
// the same cookie), and checking a reply that brings the cookie already
// known allocates nothing.
func TestClientJarLearnsOnlyNewCookies(t *testing.T) {
	jar, err := NewClientJar(ClientConfig{Secret: [16]byte{5}})
	if err != nil {
		t.Fatal(err)
	}
	server := netip.MustParseAddr("192.0.2.53")
	cc := jar.ClientCookie(server)
	q := new(dns.Msg)
	q.SetQuestion("example.com.", dns.TypeA)
	sent := func() string {
		jar.Prepare(q, server)
		data, _, _ := cookieData(q)
		return data
	}
	if got, want := sent(), hex.EncodeToString(cc[:]); got != want {
		t.Fatalf("first query sends %q, want %q", got, want)
	}
	for _, sc := range [][]byte{bytes.Repeat([]byte{0xaa}, 16), bytes.Repeat([]byte{0xbb}, 8)} {
		echo := Option{Client: cc, Server: sc}
		if err := jar.Check(replyWith(q, dns.RcodeSuccess, echo.EDNS0()), server); err != nil {
			t.Fatal(err)
		}
		if got, want := sent(), hex.EncodeToString(echo.Bytes()); got != want {
			t.Errorf("after learning %x the query sends %q, want %q", sc, got, want)
		}
		upper := &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: strings.ToUpper(hex.EncodeToString(echo.Bytes()))}
		if err := jar.Check(replyWith(q, dns.RcodeSuccess, upper), server); err != nil {
			t.Errorf("upper case echo: %v", err)
		}
		if got, want := sent(), hex.EncodeToString(echo.Bytes()); got != want {
			t.Errorf("after an upper case echo the query sends %q, want %q", got, want)
		}
	}
	reply := replyWith(q, dns.RcodeSuccess, Option{Client: cc, Server: bytes.Repeat([]byte{0xbb}, 8)}.EDNS0())
	if n := testing.AllocsPerRun(100, func() {
		if err := jar.Check(reply, server); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Check of a known cookie: %v allocations, want 0", n)
	}
}
