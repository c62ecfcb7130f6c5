package amp

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/ratelimit"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/zone"
)

// ampZone has a TXT RRset large enough to amplify more than
// FactorThreshold, as SPF and verification records do in real zones.
const ampZone = `
$ORIGIN amp.test.
$TTL 3600
@  SOA ns1 hostmaster 1 7200 900 1209600 300
@  NS  ns1
ns1 A 127.0.0.1
@  TXT "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip4:203.0.113.0/24 include:_spf.example.net -all"
@  TXT "google-site-verification=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
@  TXT "MS=ms00000000"
@  TXT "apple-domain-verification=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
@  TXT "facebook-domain-verification=cccccccccccccccccccccccccccccc"
@  TXT "atlassian-domain-verification=dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
`

// signedZone returns ampZone signed with an ECDSA key (fixed-size
// signatures, so sizes are the same every run).
func signedZone(t *testing.T) *zone.Zone {
	t.Helper()
	k, err := dnssec.Generate("amp.test.", dns.ECDSAP256SHA256, dnssec.FlagsKSK, 256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	z, err := dnssec.Sign(dnstest.Zone(t, "amp.test.", ampZone), dnssec.SignConfig{Keys: []*dnssec.Key{k}})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// serve runs h on a free UDP port of 127.0.0.1 until the test ends.
func serve(t *testing.T, h dns.Handler, raw func([]byte, string, net.Addr, []byte) ([]byte, bool)) netip.AddrPort {
	t.Helper()
	srv, err := server.New(server.Config{Handler: h, RawHandler: raw, Logger: slog.New(slog.DiscardHandler), UDPSockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	udp, _, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return udp.(*net.UDPAddr).AddrPort()
}

// serveAuth runs rensa's authoritative stack for the signed zone.
func serveAuth(t *testing.T, cfg auth.StackConfig) netip.AddrPort {
	t.Helper()
	engine, err := auth.New(auth.Config{Zones: zone.NewSet(signedZone(t)), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := auth.NewStack(engine, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, st.Handler, st.RawHandler)
}

// openRecursion answers every question NXDOMAIN with RA=1, as a resolver
// does for a name that does not exist.
var openRecursion = dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetRcode(q, dns.RcodeNameError)
	m.RecursionAvailable = true
	w.WriteMsg(m)
})

func audit(t *testing.T, cfg Config) Report {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestVerdicts runs the audit against rensa's authoritative server with
// and without its defences, and against a server that recurses for
// everyone, from loopback and from a stand-in outside address.
func TestVerdicts(t *testing.T) {
	t.Parallel()
	open := serve(t, openRecursion, nil)
	for _, tc := range []struct {
		name        string
		cfg         Config
		status      Status
		rrl, cookie bool
	}{
		{"auth-defaults", Config{Target: serveAuth(t, auth.StackConfig{}), Name: "amp.test."}, OK, true, true},
		{"auth-no-rrl", Config{Target: serveAuth(t, auth.StackConfig{RRL: ratelimit.Config{Disabled: true}, DisableCookies: true}), Name: "amp.test."}, Amplifier, false, false},
		{"recursion-loopback", Config{Target: open, Name: "amp.test."}, RecursionHere, false, false},
		{"recursion-outside", Config{Target: open, Source: netip.MustParseAddr("127.66.0.1")}, OpenResolver, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := audit(t, tc.cfg)
			for _, p := range rep.Probes {
				t.Logf("%s", p)
			}
			t.Logf("rrl: %+v; cookies: %+v; verdict: %+v", rep.RRL, rep.Cookies, rep.Verdict)
			if rep.Verdict.Status != tc.status || rep.Verdict.Bad != tc.status.Bad() {
				t.Errorf("verdict %v, want %v", rep.Verdict.Status, tc.status)
			}
			if rep.RRL.Seen != tc.rrl || rep.Cookies.Seen != tc.cookie {
				t.Errorf("rrl seen %v, cookies seen %v; want %v, %v", rep.RRL.Seen, rep.Cookies.Seen, tc.rrl, tc.cookie)
			}
			if n := len(rep.Probes) + 2 + rep.RRL.Sent; n > MaxQueries {
				t.Errorf("%d queries sent, more than MaxQueries %d", n, MaxQueries)
			}
		})
	}
}

// TestProbeSizes checks the measurement: a reply's octets over the
// query's, and the amp.test. TXT probe is the worst.
func TestProbeSizes(t *testing.T) {
	t.Parallel()
	rep := audit(t, Config{Target: serveAuth(t, auth.StackConfig{RRL: ratelimit.Config{Disabled: true}}), Name: "amp.test."})
	var txt Probe
	for _, p := range rep.Probes {
		if p.Name == "amp.test." && p.Type == "TXT" {
			txt = p
		}
	}
	q := new(dns.Msg)
	q.SetQuestion("amp.test.", dns.TypeTXT)
	q.SetEdns0(ednsSize, true)
	wire, _ := q.Pack()
	if txt.Sent != len(wire) || txt.Answers != 7 || txt.Received < 500 || txt.Factor != factor(txt.Received, txt.Sent) {
		t.Errorf("TXT probe %+v; want %d octets sent, 6 TXT records and their RRSIG, a reply of 500 octets or more", txt, len(wire))
	}
	if rep.Verdict.WorstProbe != "amp.test. TXT" || rep.RRL.Query != "amp.test. TXT" {
		t.Errorf("worst probe %q, burst %q; want the TXT probe", rep.Verdict.WorstProbe, rep.RRL.Query)
	}
}

// TestNoReply: a port where nothing answers is an error, not a verdict.
func TestNoReply(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	a, err := New(Config{Target: pc.LocalAddr().(*net.UDPAddr).AddrPort(), Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Run(context.Background()); !errors.Is(err, ErrNoReply) {
		t.Errorf("err %v, want ErrNoReply", err)
	}
}

// TestNewChecks covers the target scope and the bounds of the config.
func TestNewChecks(t *testing.T) {
	t.Parallel()
	ap := netip.MustParseAddrPort
	for _, tc := range []struct {
		cfg  Config
		want string // "" for no error
	}{
		{Config{Target: ap("127.0.0.1:53")}, ""},
		{Config{Target: ap("10.1.2.3:53")}, ""},
		{Config{Target: ap("[fd00::1]:53")}, ""},
		{Config{Target: ap("192.0.2.1:53")}, "outside loopback"},
		{Config{Target: ap("192.0.2.1:53"), OwnTarget: true}, ""},
		{Config{Target: ap("[2001:db8::1]:53")}, "outside loopback"},
		{Config{}, "needs an address"},
		{Config{Target: ap("127.0.0.1:0")}, "needs an address and a port"},
		{Config{Target: ap("127.0.0.1:53"), Name: "a..b"}, "not a domain name"},
		{Config{Target: ap("127.0.0.1:53"), Burst: MaxBurst + 1}, "burst 31"},
		{Config{Target: ap("127.0.0.1:53"), Burst: 1}, "burst 1"},
		{Config{Target: ap("127.0.0.1:53"), Timeout: time.Minute}, "timeout"},
		{Config{Target: ap("127.0.0.1:53"), Source: netip.MustParseAddr("::1")}, "address families"},
	} {
		_, err := New(tc.cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: err %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := New(Config{Target: ap("203.0.113.9:53")}); !errors.Is(err, ErrOutsideScope) {
		t.Errorf("err %v, want ErrOutsideScope", err)
	}
}

// TestStatusJSON pins the verdict names scripts match on.
func TestStatusJSON(t *testing.T) {
	t.Parallel()
	for s, want := range map[Status]string{OK: "ok", RecursionHere: "recursion-for-this-client", Amplifier: "amplifier", OpenResolver: "open-resolver"} {
		b, _ := s.MarshalText()
		if string(b) != want {
			t.Errorf("%d: %s, want %s", s, b, want)
		}
	}
}
