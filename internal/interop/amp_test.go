package interop

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/cookie"
	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/ratelimit"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/zone"
)

// Bounds of the amplification flood test (issue 7, LIMITS.md
// "Amplification"). Three floods of floodTime and named's start stay well
// under the 30 s the issue allows.
const (
	floodRate      = 200                     // attacker queries a second, DNSKEY and ANY in turn
	floodTime      = 5 * time.Second         // one flood
	floodBurst     = time.Second             // its start, left out of the factor (the first window's answers)
	floodDrain     = 300 * time.Millisecond  // how long the sink waits for replies after the last query
	clientTry      = 50 * time.Millisecond   // one UDP try of a client in the victim's /24, plus up to clientJitter
	clientJitter   = 50 * time.Millisecond   // so its tries do not keep in step with the flood (see jittered)
	resolveWithin  = 2 * time.Second         // one resolution of a client in the victim's /24: about 25 tries
	clientPace     = 300 * time.Millisecond  // between two questions of one legitimate client
	benignTimeout  = 2 * time.Second         // one query of the client in another /24 (it gets no retry)
	namedReadyWait = 15 * time.Second        // from named's start to its first answer
	namedRunTime   = floodTime + time.Minute // the whole named process
)

// Loopback addresses of the flood (DESIGN.md "Testbed address plan"), and
// what it asks.
const (
	ampRensaAddr  = "127.53.99.1" // rensa under test
	ampNamedAddr  = "127.0.0.1"   // BIND under test: named listens only on interface addresses
	ampZoneOrigin = "amp.test."   // the zone served
)

var (
	ampVictim      = net.IPv4(127, 99, 0, 1)                  // the forged source: the attacker's socket is bound here
	ampNeighbourTC = net.IPv4(127, 99, 0, 2)                  // a real client in the victim's /24: TC, then TCP
	ampNeighbourCk = net.IPv4(127, 99, 0, 3)                  // another one: DNS cookies
	ampBenign      = net.IPv4(127, 10, 0, 1)                  // a real client in another /24
	ampQuestions   = [...]uint16{dns.TypeDNSKEY, dns.TypeANY} // what the attacker asks for, with DO
	// ampFlooded is what the legitimate clients ask: the flood's DNSKEY question.
	ampFlooded = dns.Question{Name: ampZoneOrigin, Qtype: dns.TypeDNSKEY, Qclass: dns.ClassINET}
)

// ampZoneText is the zone both servers serve, signed with RSA keys so that
// its DNSKEY answer is large, as a real signed zone's is.
const ampZoneText = `
$ORIGIN amp.test.
$TTL 3600
@     SOA  ns1 hostmaster 2024010101 7200 900 1209600 300
@     NS   ns1
@     MX   10 mail
@     TXT  "v=spf1 mx -all"
ns1   A    127.53.99.1
mail  A    192.0.2.25
www   A    192.0.2.80
`

// ampRun is what one flood measured.
type ampRun struct {
	sent, received   int // DNS payload octets of the steady period: attacker to server, server to victim
	queries, replies int // datagrams of the steady period
	burstReplies     int // replies to the queries of the first floodBurst
	benign, benignOK int // questions of the client in another /24, and its good answers
	tcp, tcpOK       int // resolutions of the neighbour that falls back to TCP, and those that succeeded
	tcpVia           int // ... of which over TCP after a TC=1 reply
	ck, ckOK         int // resolutions of the neighbour with cookies, and those that succeeded over UDP
}

// factor is the amplification the victim saw: octets received per octet
// the attacker sent, over the steady period.
func (r ampRun) factor() float64 {
	if r.sent == 0 {
		return 0
	}
	return float64(r.received) / float64(r.sent)
}

func (r ampRun) String() string {
	return fmt.Sprintf("factor %.2f (%d octets to the victim for %d sent; %d replies to %d queries; %d replies in the first %v); "+
		"other /24 answered %d/%d; victim's /24 resolved %d/%d via TC->TCP (%d over TCP), %d/%d with a cookie",
		r.factor(), r.received, r.sent, r.replies, r.queries, r.burstReplies, floodBurst,
		r.benignOK, r.benign, r.tcpOK, r.tcp, r.tcpVia, r.ckOK, r.ck)
}

// TestAmplificationFlood floods rensa's authoritative server (wired as in
// production by auth.NewStack: cookies, RRL, fast path) with DNSKEY and
// ANY queries, DO set, forged from a victim's address, and measures what
// reaches the victim; then does the same with RRL off, and against BIND
// with its rate limit set to rensa's defaults. With the defaults the
// victim gets at most what the attacker sent (factor <= 1); with RRL off
// it gets ten times that and more. Throughout, a client in another /24 is
// always answered, and clients in the victim's /24 still resolve the
// flooded name: via TC=1 and TCP, or with a DNS cookie. BIND's numbers are
// printed, not asserted.
//
// The forged source is emulated on loopback: the attacker's socket is
// bound to the victim's address, so the replies come back to it, and a
// goroutine reading it is the victim's sink. The test is not parallel:
// it measures, so it runs alone.
func TestAmplificationFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("floods for about 20 s")
	}
	z := signAmpZone(t)
	var rensa, off ampRun
	bind := "not run"
	t.Run("rensa-defaults", func(t *testing.T) {
		st, addr := startAmpRensa(t, z, auth.StackConfig{})
		rensa = runAmp(t, addr)
		t.Logf("rensa, defaults: %v; limiter %+v", rensa, st.Limiter.Stats())
		if f := rensa.factor(); f > 1.0 || rensa.sent == 0 {
			t.Errorf("amplification factor %.2f with RRL on, want <= 1.0", f)
		}
		checkLegitimate(t, rensa)
		// The DNSKEY flood was answered by the fast path (its reply is
		// compiled), the ANY flood by the engine: RRL held on both.
		q, err := dnstest.EDNS(dnstest.Query(ampZoneOrigin, dns.TypeDNSKEY), 4096, true).Pack()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := st.FastPath.AnswerRaw(q, "udp", nil); !ok {
			t.Error("the fast path did not take the DNSKEY flood")
		}
	})
	t.Run("rensa-rrl-off", func(t *testing.T) {
		_, addr := startAmpRensa(t, z, auth.StackConfig{RRL: ratelimit.Config{Disabled: true}})
		off = runAmp(t, addr)
		t.Logf("rensa, RRL off: %v", off)
		if f := off.factor(); f < 10 {
			t.Errorf("amplification factor %.2f with RRL off, want >= 10: the flood does not show what RRL stops", f)
		}
		if off.benignOK != off.benign {
			t.Errorf("the client in another /24 got %d answers to %d questions", off.benignOK, off.benign)
		}
	})
	t.Run("named", func(t *testing.T) {
		named := requirePeer(t, "named")
		addr := startAmpNamed(t, named, z)
		r := runAmp(t, addr)
		bind = fmt.Sprintf("%.2f", r.factor())
		t.Logf("BIND named, rate-limit { responses-per-second 5; window 15; slip 2; }: %v", r)
	})
	t.Logf("amplification factors: rensa defaults %.2f, rensa RRL off %.2f, BIND with the same limits %s",
		rensa.factor(), off.factor(), bind)
}

// checkLegitimate checks that the flood cost the legitimate clients
// nothing but a detour: every question of the other /24 answered, every
// resolution in the victim's /24 done.
func checkLegitimate(t *testing.T, r ampRun) {
	t.Helper()
	if r.benign == 0 || r.benignOK != r.benign {
		t.Errorf("the client in another /24 got %d answers to %d questions, want all", r.benignOK, r.benign)
	}
	if r.tcp == 0 || r.tcpOK != r.tcp || r.tcpVia == 0 {
		t.Errorf("the victim's neighbour resolved %d of %d names, %d via TC->TCP; want all, some over TCP", r.tcpOK, r.tcp, r.tcpVia)
	}
	if r.ck == 0 || r.ckOK != r.ck {
		t.Errorf("the victim's neighbour with cookies resolved %d of %d names over UDP, want all", r.ckOK, r.ck)
	}
}

// signAmpZone returns the flood's zone signed with an RSA-2048 KSK and ZSK.
func signAmpZone(t *testing.T) *zone.Zone {
	t.Helper()
	var keys []*dnssec.Key
	for _, flags := range []uint16{dnssec.FlagsKSK, dnssec.FlagsZSK} {
		k, err := dnssec.Generate(ampZoneOrigin, dns.RSASHA256, flags, 2048, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	signed, err := dnssec.Sign(dnstest.Zone(t, ampZoneOrigin, ampZoneText), dnssec.SignConfig{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// startAmpRensa serves z from a rensa authoritative server built like
// "rensa auth" builds it, with cfg, on a free port of ampRensaAddr.
func startAmpRensa(t *testing.T, z *zone.Zone, cfg auth.StackConfig) (*auth.Stack, string) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	engine, err := auth.New(auth.Config{Zones: zone.NewSet(z), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	st, err := auth.NewStack(engine, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Handler: st.Handler, RawHandler: st.RawHandler, Logger: logger, UDPSockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	udp, _, err := srv.Listen(net.JoinHostPort(ampRensaAddr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return st, udp.String()
}

// runAmp floods the server at addr from the victim's address while the
// legitimate clients ask their questions, and returns what was measured.
// The clients start once the first floodBurst is over, when the victim's
// budget is spent, and stop when the flood does.
func runAmp(t *testing.T, addr string) ampRun {
	t.Helper()
	steady := make(chan struct{})
	end := time.Now().Add(floodTime)
	var r ampRun
	var wg sync.WaitGroup
	wg.Go(func() {
		<-steady
		r.benign, r.benignOK = askBenign(addr, end)
	})
	wg.Go(func() {
		<-steady
		r.tcp, r.tcpOK, r.tcpVia = resolveViaTCP(addr, end)
	})
	wg.Go(func() {
		<-steady
		r.ck, r.ckOK = resolveWithCookies(t, addr, end)
	})
	flood(t, addr, steady, &r)
	wg.Wait()
	return r
}

// flood sends floodRate queries a second for floodTime to addr from a
// socket bound to the victim's address, closes steady when the first
// floodBurst is over, and counts in r what the attacker sent and what
// reached the victim (the same socket) over the rest. Each query's ID is
// its number, so a reply is matched to the period of its query.
func flood(t *testing.T, addr string, steady chan<- struct{}, r *ampRun) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ampVictim})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	total, from := int(floodRate*floodTime/time.Second), int(floodRate*floodBurst/time.Second)
	var queries [len(ampQuestions)][]byte
	for i, qtype := range ampQuestions {
		q := dnstest.EDNS(dnstest.Query(ampZoneOrigin, qtype), 4096, true)
		if queries[i], err = q.Pack(); err != nil {
			t.Fatal(err)
		}
	}
	sink := make(chan struct{})
	go func() { // the victim: owned by flood, ends at the read deadline set below
		defer close(sink)
		buf := make([]byte, 65535)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			switch id := int(binary.BigEndian.Uint16(buf)); {
			case n < 2 || id >= total:
			case id >= from:
				r.received += n
				r.replies++
			default:
				r.burstReplies++
			}
		}
	}()
	tick := time.NewTicker(time.Second / floodRate)
	defer tick.Stop()
	steadyOnce := sync.OnceFunc(func() { close(steady) })
	defer steadyOnce() // the clients must not wait for a steady period that never came
	for i := range total {
		if i == from {
			steadyOnce()
		}
		q := queries[i%len(queries)]
		binary.BigEndian.PutUint16(q, uint16(i))
		if _, err := conn.WriteToUDP(q, dst); err != nil {
			t.Errorf("attacker: %v", err)
			break
		}
		if i >= from {
			r.sent += len(q)
			r.queries++
		}
		<-tick.C
	}
	_ = conn.SetReadDeadline(time.Now().Add(floodDrain))
	<-sink
}

// askBenign asks the flooded question, with DO, from another /24 every
// clientPace until end, one try each: all must be answered.
func askBenign(addr string, end time.Time) (asked, answered int) {
	c := &dns.Client{Timeout: benignTimeout, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: ampBenign}}}
	tick := time.NewTicker(clientPace)
	defer tick.Stop()
	for time.Now().Before(end) {
		q := dnstest.EDNS(&dns.Msg{Question: []dns.Question{ampFlooded}}, 1232, true)
		q.Id = dns.Id()
		asked++
		if m, _, err := c.Exchange(q, addr); err == nil && answers(m) {
			answered++
		}
		<-tick.C
	}
	return asked, answered
}

// resolveViaTCP resolves the flooded question from the victim's /24 as a
// stub resolver does: UDP tries until a reply, and over TCP when the reply
// has TC=1. It starts resolutions until end, each given resolveWithin.
func resolveViaTCP(addr string, end time.Time) (tries, resolved, viaTCP int) {
	udp := &dns.Client{Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: ampNeighbourTC}}}
	tcp := &dns.Client{Net: "tcp", Timeout: time.Second, Dialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: ampNeighbourTC}}}
	tick := time.NewTicker(clientPace)
	defer tick.Stop()
	for time.Now().Before(end) {
		tries++
		for deadline := time.Now().Add(resolveWithin); time.Now().Before(deadline); {
			q := dnstest.EDNS(&dns.Msg{Question: []dns.Question{ampFlooded}}, 1232, true)
			q.Id = dns.Id()
			udp.Timeout = jittered()
			m, _, err := udp.Exchange(q, addr)
			if err != nil {
				continue // dropped: try again
			}
			if m.Truncated {
				if m, _, err = tcp.Exchange(q, addr); err == nil && answers(m) {
					resolved++
					viaTCP++
				}
			} else if answers(m) {
				resolved++
			}
			break
		}
		<-tick.C
	}
	return tries, resolved, viaTCP
}

// resolveWithCookies resolves the flooded question from the victim's /24
// over UDP only, with a DNS cookie jar: a slip reply carries the server's
// cookie, and queries with a valid cookie are exempt from the limit. It
// starts resolutions until end, each given resolveWithin.
func resolveWithCookies(t *testing.T, addr string, end time.Time) (tries, resolved int) {
	jar, err := cookie.NewClientJar(cookie.ClientConfig{})
	if err != nil {
		t.Error(err)
		return 0, 0
	}
	server := netip.MustParseAddrPort(addr).Addr()
	udp := &dns.Client{Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: ampNeighbourCk}}}
	tick := time.NewTicker(clientPace)
	defer tick.Stop()
	for time.Now().Before(end) {
		tries++
		for deadline := time.Now().Add(resolveWithin); time.Now().Before(deadline); {
			q := dnstest.EDNS(&dns.Msg{Question: []dns.Question{ampFlooded}}, 1232, true)
			q.Id = dns.Id()
			jar.Prepare(q, server)
			udp.Timeout = jittered()
			m, _, err := udp.Exchange(q, addr)
			if err != nil || jar.Check(m, server) != nil || m.Truncated {
				continue // dropped, BADCOOKIE, or slipped: the cookie is learned now
			}
			if answers(m) {
				resolved++
			}
			break
		}
		<-tick.C
	}
	return tries, resolved
}

// jittered returns the timeout of one UDP try of a client in the victim's
// /24: clientTry plus a random part. The limiter slips every second
// response it drops for the victim's /24, the client's included; on
// loopback the flood's ticker and a fixed timeout would keep the client's
// tries in step with it, so that each lands on a drop (on a real network,
// delays break that step, as this jitter does).
func jittered() time.Duration {
	return clientTry + mrand.N(clientJitter)
}

// answers reports whether m is a whole, positive answer.
func answers(m *dns.Msg) bool {
	return m.Rcode == dns.RcodeSuccess && !m.Truncated && len(m.Answer) > 0
}

// namedAmpConf configures named as an authoritative-only server of the
// flood's zone, with BIND's rate limit set to rensa's defaults
// (LIMITS.md: 5 responses/s, window 15 s, slip 2).
const namedAmpConf = `options {
	directory %[1]q;
	pid-file %[6]q;
	session-keyfile %[7]q;
	managed-keys-directory %[1]q;
	listen-on port %[3]d { %[2]s; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	rate-limit {
		responses-per-second 5;
		window 15;
		slip 2;
	};
};
controls { };
zone %[4]q {
	type primary;
	file %[5]q;
};
`

// startAmpNamed serves z, as presigned zone text, from named on a free
// port of ampNamedAddr, and returns its address once it answers.
func startAmpNamed(t *testing.T, named string, z *zone.Zone) string {
	t.Helper()
	dir := t.TempDir()
	var text strings.Builder
	for _, rec := range z.Records {
		text.WriteString(rec.RR.String() + "\n")
	}
	zoneFile := filepath.Join(dir, "amp.test.zone")
	if err := os.WriteFile(zoneFile, []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t, ampNamedAddr)
	conf := filepath.Join(dir, "named.conf")
	confText := fmt.Sprintf(namedAmpConf, dir, ampNamedAddr, port, ampZoneOrigin, zoneFile,
		filepath.Join(dir, "named.pid"), filepath.Join(dir, "session.key"))
	if err := os.WriteFile(conf, []byte(confText), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(ampNamedAddr, fmt.Sprint(port))
	// named answers the flood zone's SOA once it serves.
	c := dns.Client{Timeout: 200 * time.Millisecond}
	daemon{name: "named", path: named, args: []string{"-g", "-4", "-n", "1", "-c", conf}, config: confText,
		runTime: namedRunTime, readyWait: namedReadyWait,
		ready: func() bool {
			m, _, err := c.Exchange(dnstest.Query(ampZoneOrigin, dns.TypeSOA), addr)
			return err == nil && answers(m)
		}}.start(t)
	return addr
}
