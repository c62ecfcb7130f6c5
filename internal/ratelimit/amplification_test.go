package ratelimit_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/cookie"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/ratelimit"
)

// dnskeyServer answers every query with about 1,000 bytes: what a signed
// zone's DNSKEY set weighs, the reflector's favourite.
type dnskeyServer struct{}

func (dnskeyServer) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	key := strings.Repeat("A", 344) // a 2048-bit RSA key in base64
	for _, flags := range []uint16{257, 256} {
		m.Answer = append(m.Answer, &dns.DNSKEY{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
			Flags: flags, Protocol: 3, Algorithm: dns.RSASHA256, PublicKey: key})
	}
	m.Answer = append(m.Answer, &dns.RRSIG{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 3600},
		TypeCovered: dns.TypeDNSKEY, Algorithm: dns.RSASHA256, Labels: 2, OrigTtl: 3600, Expiration: 1, Inception: 1, KeyTag: 1,
		SignerName: r.Question[0].Name, Signature: key})
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(1232, opt.Do())
	}
	_ = w.WriteMsg(m)
}

// flood sends n spoofed DNSKEY+DO queries, spread over seconds of simulated
// time, from addresses in the victim's 127.99.0.0/24 through h, and returns
// the bytes the attacker sent and the bytes the victim received. opts are
// added to every query's OPT record.
func flood(t *testing.T, h dns.Handler, clock *time.Time, n int, seconds time.Duration, opts ...dns.EDNS0) (in, out int) {
	t.Helper()
	step := seconds / time.Duration(n)
	for i := range n {
		q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeDNSKEY), 1232, true, opts...)
		wire, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		in += len(wire)
		rec := dnstest.NewRecorder("udp")
		rec.Remote = &net.UDPAddr{IP: net.IPv4(127, 99, 0, byte(i)), Port: 53}
		h.ServeDNS(rec, q)
		out += len(rec.Wire)
		*clock = clock.Add(step)
	}
	return in, out
}

// TestAmplificationFactor is LIMITS.md's promise in process: under a
// spoofed flood of 10,000 DNSKEY queries over 10 seconds from one victim
// prefix, the victim receives no more bytes than the attacker sent with RRL
// on, and at least ten times as many with RRL off.
func TestAmplificationFactor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		disabled bool
		cookies  bool // the cookie middleware outside RRL, attacker sends client cookies
		check    func(factor float64) bool
		want     string
	}{
		{"RRL defaults", false, false, func(f float64) bool { return f <= 1.0 }, "<= 1.0"},
		{"RRL defaults behind cookies, forged client cookies", false, true, func(f float64) bool { return f <= 1.0 }, "<= 1.0"},
		{"RRL disabled", true, false, func(f float64) bool { return f >= 10 }, ">= 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := time.Unix(1700000000, 0)
			rrl, limiter, err := ratelimit.New(ratelimit.Config{Disabled: tc.disabled, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			h := rrl(dnskeyServer{})
			var opts []dns.EDNS0
			if tc.cookies {
				mw, err := cookie.New(cookie.Config{Secret: [16]byte{1}, Now: func() time.Time { return now }})
				if err != nil {
					t.Fatal(err)
				}
				h = mw(h)
				opts = append(opts, cookie.Option{Client: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}}.EDNS0())
			}
			in, out := flood(t, h, &now, 10000, 10*time.Second, opts...)
			factor := float64(out) / float64(in)
			t.Logf("attacker sent %d bytes, victim received %d: factor %.2f; %+v", in, out, factor, limiter.Stats())
			if !tc.check(factor) {
				t.Errorf("amplification factor %.2f, want %s", factor, tc.want)
			}
		})
	}
}

// TestVictimPrefixStillServed: during the flood, a real client in the
// victim's /24 that has a server cookie is answered every time, and one
// without gets answers or TC=1 replies (which send it to TCP), never only
// silence.
func TestVictimPrefixStillServed(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	clock := func() time.Time { return now }
	rrl, _, _ := ratelimit.New(ratelimit.Config{Now: clock})
	cookies, _ := cookie.New(cookie.Config{Secret: [16]byte{1}, Now: clock})
	h := cookies(rrl(dnskeyServer{}))

	jar, _ := cookie.NewClientJar(cookie.ClientConfig{Secret: [16]byte{2}})
	server := dnstest.NewRecorder("udp").LocalAddr().(*net.UDPAddr).AddrPort().Addr()
	real := func() *dns.Msg {
		q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeDNSKEY), 1232, true)
		jar.Prepare(q, server)
		rec := dnstest.NewRecorder("udp")
		rec.Remote = &net.UDPAddr{IP: net.IPv4(127, 99, 0, 200), Port: 5353}
		h.ServeDNS(rec, q)
		if rec.Msg != nil {
			if err := jar.Check(rec.Msg, server); err != nil {
				t.Fatalf("real client: %v", err)
			}
		}
		return rec.Msg
	}
	// Learn a cookie before the flood.
	if m := real(); m == nil || len(m.Answer) == 0 {
		t.Fatal("first query not answered")
	}
	var tcOrAnswer int
	for s := range 10 {
		flood(t, h, &now, 1000, time.Second)
		if m := real(); m == nil || len(m.Answer) == 0 {
			t.Errorf("second %d: real client with a cookie not answered", s)
		}
		// Without a cookie: answer or TC, counted over the run.
		q := dnstest.EDNS(dnstest.Query("example.com.", dns.TypeDNSKEY), 1232, true)
		for range 2 {
			rec := dnstest.NewRecorder("udp")
			rec.Remote = &net.UDPAddr{IP: net.IPv4(127, 99, 0, 201), Port: 5353}
			h.ServeDNS(rec, q)
			if rec.Msg != nil {
				tcOrAnswer++
			}
		}
	}
	if tcOrAnswer < 10 {
		t.Errorf("cookie-less client in the victim's prefix heard back %d times of 20; slip should answer every other", tcOrAnswer)
	}
}
