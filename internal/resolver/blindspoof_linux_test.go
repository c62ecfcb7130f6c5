//go:build linux

package resolver

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/zone"
)

// The blind spoofing lab: a root, a TLD and a leaf server on port 53 of
// their own testbed addresses (127.53.250.x, away from the default
// testbed's), an attacker's server on 127.66.250.53, and the resolver
// asking from 127.10.250.1, an address nothing else uses, so forged
// packets sprayed over its ports hit no other test's sockets.
const (
	spoofRoot     = "127.53.250.1"
	spoofTLD      = "127.53.250.2"
	spoofLeaf     = "127.53.250.3"
	spoofAttacker = "127.66.250.53"
	spoofClient   = "127.10.250.1"

	// spoofTarget is the delegation the attacker forges: the TLD's
	// referral for it, sent from the TLD's address.
	spoofTarget = "example.test."

	// spoofDelay holds the TLD's real answer (LIMITS.md, issue 4): the
	// attacker's window of opportunity, W in RFC 5452 §7.
	spoofDelay = 200 * time.Millisecond

	// spoofRate caps the forger at this many packets per second, so the
	// flood stays a test and the resolver's socket can keep up.
	spoofRate = 100000

	// spoofAttempts is how many windows each run gets; each window gets
	// one forged reply for every query ID, 65,536, so a run sends
	// 327,680 forged replies, more than the 100,000 issue 4 asks for.
	// A window of the weak run can miss when the kernel drops the right
	// guess from the resolver's full receive queue (a busy machine): five
	// windows make a dead-looking run that is alive very unlikely.
	spoofAttempts = 5

	// spoofWindowMax ends a window's flood early: the forger stops, and
	// the TLD answers, this long after the target's query reached it,
	// well inside the resolver's attemptTimeout. At spoofRate the 65,536
	// forged replies take 0.66 s; on a loaded machine under -race they
	// once took longer than the attempt, and the resolution ended in
	// SERVFAIL, a failure of the test's timing, not of the resolver.
	spoofWindowMax = attemptTimeout - 500*time.Millisecond
)

var spoofZones = map[string][2]string{ // server -> origin, zone text
	spoofRoot: {".", `
. 86400 IN SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 86400
. 86400 IN NS a.root.lab.
a.root.lab. 86400 IN A ` + spoofRoot + `
test. 86400 IN NS ns.test.
ns.test. 86400 IN A ` + spoofTLD + `
`},
	spoofTLD: {"test.", `
test. 86400 IN SOA ns.test. hostmaster.test. 1 1800 900 604800 86400
test. 86400 IN NS ns.test.
ns.test. 86400 IN A ` + spoofTLD + `
example.test. 86400 IN NS ns.example.test.
ns.example.test. 86400 IN A ` + spoofLeaf + `
`},
	spoofLeaf: {"example.test.", `
example.test. 86400 IN SOA ns.example.test. hostmaster.example.test. 1 1800 900 604800 86400
example.test. 86400 IN NS ns.example.test.
ns.example.test. 86400 IN A ` + spoofLeaf + `
www.example.test. 86400 IN A 192.0.2.10
`},
	spoofAttacker: {"example.test.", `
example.test. 86400 IN SOA ns.example.test. hostmaster.example.test. 1 1800 900 604800 86400
example.test. 86400 IN NS ns.example.test.
ns.example.test. 86400 IN A ` + spoofAttacker + `
www.example.test. 86400 IN A 127.66.6.6
`},
}

// TestBlindSpoofing floods the resolver with forged referrals for
// example.test. while the TLD's real answer is delayed 200 ms, over raw
// sockets that forge the TLD's address as the source, and counts poisoned
// resolutions (www.example.test. answered with the attacker's address, or
// the example.test. delegation pointing at the attacker):
//
//   - defaults (random source port, 0x20, near misses move the query to
//     TCP), the attacker spraying the resolver's port range: 0 poisoned;
//   - defaults, the attacker told the source port: 0 poisoned (0x20 and
//     the near-miss rule alone hold);
//   - source-port randomisation and 0x20 off (fixed port), the
//     attacker knowing the port: 0 poisoned still, because the first
//     wrong-ID replies are near misses that move the query to TCP
//     (LIMITS.md), where a blind forger cannot reach it;
//   - the lab's weak resolver (fixed source port, no 0x20, near misses
//     ignored: switches only tests can set, see Config.SourceAddr), the
//     attacker knowing the port and guessing only the ID: poisoned — the
//     test is alive. It is printed how many forged replies the kernel
//     dropped from full receive queues: a window can miss when the right
//     guess is among them.
//
// The attacker is blind: it knows which question it made the resolver
// ask, and when, but not the query ID, the case of the name or (unless
// told) the port. Each window it sends one forged reply per ID, 65,536,
// at most spoofRate a second, and the real answer is held until its burst
// is over, so a slow machine cannot turn the race into a flake. It needs
// root (raw sockets, port 53): it says why it skips otherwise, and fails
// instead under REQUIRE_PEERS=1.
func TestBlindSpoofing(t *testing.T) {
	if testing.Short() {
		t.Skip("floods loopback with about a million forged replies; skipped with -short")
	}
	raw := rawSocketOrSkip(t)
	lab := startSpoofLab(t)
	portLo, portHi := localPortRange()
	weakPort := freeUDPPort(t, spoofClient)
	runs := []struct {
		name     string
		cfg      Config
		knowPort bool
		poisons  bool
		ports    float64 // P in RFC 5452 §7
		cases    float64 // 0x20: 2^letters of the name
		fakes    float64 // F: forged replies that can count per window
	}{
		{"defaults", Config{SourceAddr: netip.AddrPortFrom(netip.MustParseAddr(spoofClient), 0)},
			false, false, float64(portHi - portLo + 1), math.Exp2(float64(letters(spoofTarget))), 16},
		{"defaults-port-known", Config{SourceAddr: netip.AddrPortFrom(netip.MustParseAddr(spoofClient), 0)},
			true, false, 1, math.Exp2(float64(letters(spoofTarget))), 16},
		{"port-and-0x20-off", Config{SourceAddr: netip.AddrPortFrom(netip.MustParseAddr(spoofClient), weakPort), No0x20: true},
			true, false, 1, 1, 16},
		{"weak", Config{SourceAddr: netip.AddrPortFrom(netip.MustParseAddr(spoofClient), weakPort), No0x20: true, NoNearMissTCP: true},
			true, true, 1, 1, 65536},
	}
	for _, run := range runs {
		poisoned, forged := 0, 0
		start, drops := time.Now(), udpRcvbufErrors()
		for attempt := range spoofAttempts {
			p, n := lab.attempt(t, raw, run.cfg, run.knowPort, portLo, portHi)
			forged += n
			if p {
				poisoned++
			}
			t.Logf("%s: window %d: %d forged replies, poisoned %v", run.name, attempt+1, n, p)
		}
		// RFC 5452 §7: P_s = D·F/(N·P·I) per window, F = R·W; D = 1
		// outstanding query, N = 1 server, I = 65,536 IDs, and 0x20
		// multiplies the space by 2^letters. The near-miss rule caps the
		// F that can count at 16 per window, then the query goes to TCP.
		ps := math.Min(1, run.fakes/(1*run.ports*65536*run.cases))
		pRun := 1 - math.Pow(1-ps, spoofAttempts)
		t.Logf("%s: %d forged replies in %d windows (%v), %d dropped by full receive queues: %d poisoned; RFC 5452 §7: F=%.0f counted per window, N=1, P=%.0f, I=65536, 0x20×%.0f: P_s=%.3g per window, %.3g per run",
			run.name, forged, spoofAttempts, time.Since(start).Round(time.Millisecond), udpRcvbufErrors()-drops, poisoned, run.fakes, run.ports, run.cases, ps, pRun)
		switch {
		case run.poisons && poisoned == 0:
			t.Errorf("%s: no window poisoned: the flood does not reach the resolver, so the test proves nothing", run.name)
		case !run.poisons && poisoned != 0:
			t.Errorf("%s: %d of %d windows poisoned", run.name, poisoned, spoofAttempts)
		}
	}
}

// rawSocketOrSkip opens a raw IPv4 socket that writes its own IP headers
// (IPPROTO_RAW implies IP_HDRINCL), or skips the test saying why.
func rawSocketOrSkip(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
	if err != nil {
		why := fmt.Sprintf("blind spoofing needs a raw socket to forge the server's source address (root or CAP_NET_RAW): %v", err)
		if os.Getenv("REQUIRE_PEERS") == "1" {
			t.Fatal(why + "; REQUIRE_PEERS=1")
		}
		t.Skip(why + "; set REQUIRE_PEERS=1 to make that a failure")
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return fd
}

// spoofLab is the running hierarchy, with the TLD's gate.
type spoofLab struct {
	hints Hints
	gate  atomic.Pointer[spoofGate]
}

// spoofGate is one window: the TLD reports the first query for the
// target on seen, and answers only after spoofDelay and after done is
// closed (the attacker's burst is over).
type spoofGate struct {
	seen chan spoofQuery
	done chan struct{}
}

// spoofQuery is the query the TLD saw and the port it came from.
type spoofQuery struct {
	q    dns.Question
	port uint16
}

func startSpoofLab(t *testing.T) *spoofLab {
	t.Helper()
	lab := &spoofLab{}
	for addr, z := range spoofZones {
		a, err := auth.New(auth.Config{Zones: zone.NewSet(dnstest.Zone(t, z[0], z[1]))})
		if err != nil {
			t.Fatal(err)
		}
		var h dns.Handler = a
		if addr == spoofTLD {
			h = lab.delay(a)
		}
		srv, err := server.New(server.Config{Handler: h, UDPSockets: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := srv.Listen(net.JoinHostPort(addr, "53")); err != nil {
			why := fmt.Sprintf("the lab's servers need port 53 on %s: %v", addr, err)
			if os.Getenv("REQUIRE_PEERS") == "1" {
				t.Fatal(why)
			}
			t.Skip(why)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
		})
	}
	hints, err := ParseHints(strings.NewReader(". 3600000 NS a.root.lab.\na.root.lab. 3600000 A "+spoofRoot+"\n"), "lab hints")
	if err != nil {
		t.Fatal(err)
	}
	lab.hints = hints
	return lab
}

// delay is the TLD's middleware: queries for the target wait for the
// window to close.
func (lab *spoofLab) delay(h dns.Handler) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		g := lab.gate.Load()
		if g != nil && len(req.Question) == 1 && strings.EqualFold(req.Question[0].Name, spoofTarget) {
			port := uint16(0)
			if a, ok := w.RemoteAddr().(*net.UDPAddr); ok {
				port = uint16(a.Port)
			}
			select {
			case g.seen <- spoofQuery{req.Question[0], port}:
			default:
			}
			<-time.After(spoofDelay)
			<-g.done
		}
		h.ServeDNS(w, req)
	})
}

// attempt runs one window: a fresh resolver with cfg resolves
// www.example.test.; when its query for the target reaches the TLD the
// attacker sends one forged referral per query ID, to the resolver's port
// if knowPort and to random ports of [lo, hi] otherwise. It reports
// whether the resolution was poisoned and how many replies were forged.
func (lab *spoofLab) attempt(t *testing.T, raw int, cfg Config, knowPort bool, lo, hi int) (bool, int) {
	t.Helper()
	g := &spoofGate{seen: make(chan spoofQuery, 1), done: make(chan struct{})}
	lab.gate.Store(g)
	defer lab.gate.Store(nil)
	cfg.Hints = lab.hints
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resc := make(chan Result, 1)
	go func() { resc <- r.Resolve(context.Background(), "www.example.test.", dns.TypeA) }()
	var seen spoofQuery
	select {
	case seen = <-g.seen:
	case res := <-resc:
		close(g.done)
		t.Fatalf("resolved without asking the TLD for %s: %v", spoofTarget, res.Trace)
	}
	// The attacker knows the name it made the resolver ask, not its case;
	// the port only when told (as if it had watched the wire).
	q := seen.q
	q.Name = strings.ToLower(q.Name)
	sent := forge(t, raw, q, knowPort, seen.port, lo, hi, time.Now().Add(spoofWindowMax))
	close(g.done)
	res := <-resc
	poisoned := false
	for _, rr := range res.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.String() == "127.66.6.6" {
			poisoned = true
		}
	}
	if d, ok := r.Cache().Delegation(spoofTarget); ok {
		for _, rr := range d.Glue {
			if a, ok := rr.(*dns.A); ok && a.A.String() == spoofAttacker {
				poisoned = true
			}
		}
	}
	if !poisoned && (res.Kind != KindAnswer || len(res.Answer) != 1 || res.Answer[0].(*dns.A).A.String() != "192.0.2.10") {
		t.Errorf("not poisoned, but not the real answer either: %v %v", res.Kind, res.Answer)
	}
	return poisoned, sent
}

// forge sends one forged referral for q per query ID, in random order,
// from the TLD's address and port 53 to the resolver's address, at most
// spoofRate a second, and stops early at deadline.
func forge(t *testing.T, raw int, q dns.Question, knowPort bool, port uint16, lo, hi int, deadline time.Time) int {
	t.Helper()
	m := new(dns.Msg)
	m.Response = true
	m.Question = []dns.Question{q}
	m.Ns = rrs(t, spoofTarget+" 86400 IN NS ns."+spoofTarget)
	m.Extra = rrs(t, "ns."+spoofTarget+" 86400 IN A "+spoofAttacker)
	payload, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 28+len(payload))
	pkt[0], pkt[8], pkt[9] = 0x45, 64, syscall.IPPROTO_UDP // IPv4, TTL, UDP
	binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
	src, dst := netip.MustParseAddr(spoofTLD).As4(), netip.MustParseAddr(spoofClient).As4()
	copy(pkt[12:16], src[:])
	copy(pkt[16:20], dst[:])
	binary.BigEndian.PutUint16(pkt[20:], 53)
	binary.BigEndian.PutUint16(pkt[24:], uint16(8+len(payload))) // UDP checksum 0: none
	copy(pkt[28:], payload)
	to := &syscall.SockaddrInet4{Addr: dst}
	start, sent := time.Now(), 0
	for _, id := range rand.Perm(65536) {
		if !knowPort {
			port = uint16(lo + rand.IntN(hi-lo+1))
		}
		binary.BigEndian.PutUint16(pkt[22:], port)
		binary.BigEndian.PutUint16(pkt[28:], uint16(id))
		if err := syscall.Sendto(raw, pkt, 0, to); err == nil {
			sent++
		}
		if sent%1024 == 0 { // the rate cap, and the window's end
			if time.Now().After(deadline) {
				t.Logf("the window closed after %d forged replies", sent)
				break
			}
			if ahead := time.Duration(sent)*time.Second/spoofRate - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	return sent
}

// localPortRange returns the system's ephemeral port range, from which
// the resolver's fresh sockets get their ports.
func localPortRange() (int, int) {
	lo, hi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		fmt.Sscan(string(b), &lo, &hi)
	}
	return lo, hi
}

// freeUDPPort returns a UDP port free on addr, for the weak resolver's
// fixed source port.
func freeUDPPort(t *testing.T, addr string) uint16 {
	t.Helper()
	pc, err := net.ListenPacket("udp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).AddrPort().Port()
}

func udpRcvbufErrors() int {
	n, _ := dnstest.UDPReceiveDrops()
	return n
}

// letters counts the letters of name, each a bit of 0x20 case.
func letters(name string) int {
	n := 0
	for _, c := range name {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			n++
		}
	}
	return n
}
