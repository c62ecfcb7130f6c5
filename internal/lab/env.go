package lab

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNotLoopback is wrapped by every error about an address outside
// loopback: the lab attacks nothing but its own servers on 127.0.0.0/8
// and ::1 (STYLE.md rule 15).
var ErrNotLoopback = errors.New("lab: refusing an address outside loopback (127.0.0.0/8, ::1)")

// ErrPacketBudget is wrapped by the error of a scenario whose attackers
// would send more than MaxPackets packets.
var ErrPacketBudget = errors.New("lab: packet budget exhausted")

// Addrs are the addresses the lab's actors use, after DESIGN.md's
// address plan. Every field must be a loopback address.
type Addrs struct {
	// Victim is the amplification victim, whose address the attacker
	// forges. Default 127.99.0.1.
	Victim netip.Addr
	// Attacker is where attackers' servers and web sites run, the
	// address forged records point at. Default 127.66.0.1.
	Attacker netip.Addr
	// Client is the benign side: the address a resolver sends its
	// upstream queries from in the poisoning scenario. Default
	// 127.10.240.1, an address nothing else uses, so forged replies
	// sprayed over its ports hit no other program's sockets.
	Client netip.Addr
	// Services is the first of the addresses of the lab's own servers
	// (resolvers, CAs, the CDN, the amplifiers); the next ones follow
	// it. Default 127.53.240.1, inside the testbed's 127.53.0.0/16 and
	// away from the addresses of the default testbed and the resolver's
	// tests.
	Services netip.Addr
}

// Config configures an Env. Its zero value runs the full scenarios.
type Config struct {
	// Short runs every scenario in its short mode (fewer attempts,
	// shorter bursts), for CI and the demo. Default false.
	Short bool
	// Addrs are the actors' addresses. Default: see Addrs.
	Addrs Addrs
	// Rand is the source of keys, random names and the attackers'
	// guesses. Default crypto/rand.Reader.
	Rand io.Reader
	// MaxPackets bounds the attackers' packets per Env. Default and
	// maximum: MaxPackets.
	MaxPackets int64
}

// Env is what a scenario runs in: the loopback guard, the actors'
// addresses, the packet budget and the sources of randomness. Give each
// scenario run a fresh Env; it is safe for concurrent use.
type Env struct {
	// Short is Config.Short.
	Short bool
	// Addrs are the actors' addresses, defaults filled in.
	Addrs Addrs
	// Rand is Config.Rand or crypto/rand.Reader.
	Rand io.Reader

	maxPackets int64
	packets    atomic.Int64
	randMu     sync.Mutex // serialises reads of Rand
}

// NewEnv returns an Env for cfg, filling in defaults. It does not check
// the addresses: every scenario does, before it sends anything.
func NewEnv(cfg Config) *Env {
	def := func(a *netip.Addr, s string) {
		if !a.IsValid() {
			*a = netip.MustParseAddr(s)
		}
	}
	def(&cfg.Addrs.Victim, "127.99.0.1")
	def(&cfg.Addrs.Attacker, "127.66.0.1")
	def(&cfg.Addrs.Client, "127.10.240.1")
	def(&cfg.Addrs.Services, "127.53.240.1")
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.MaxPackets <= 0 || cfg.MaxPackets > MaxPackets {
		cfg.MaxPackets = MaxPackets
	}
	return &Env{Short: cfg.Short, Addrs: cfg.Addrs, Rand: cfg.Rand, maxPackets: cfg.MaxPackets}
}

// CheckLoopback returns nil when addr is a loopback address (in
// 127.0.0.0/8, or ::1), with or without a port, and an error wrapping
// ErrNotLoopback otherwise. Host names are refused: the lab never looks
// up a name outside its own testbed.
func CheckLoopback(addr string) error {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() || ip.Zone() != "" {
		return fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	return nil
}

// CheckLoopback is the package's CheckLoopback, for scenarios.
func (e *Env) CheckLoopback(addr string) error { return CheckLoopback(addr) }

// checkAddrs checks every address in addrs, and is what a scenario calls
// first, before it starts anything.
func (e *Env) checkAddrs(addrs ...netip.Addr) error {
	for _, a := range addrs {
		if err := CheckLoopback(a.String()); err != nil {
			return err
		}
	}
	return nil
}

// service returns the i-th address of the lab's own servers.
func (e *Env) service(i int) netip.Addr {
	a := e.Addrs.Services
	for range i {
		a = a.Next()
	}
	return a
}

// spend takes n packets from the budget, or returns an error wrapping
// ErrPacketBudget when they are not there.
func (e *Env) spend(n int) error {
	if e.packets.Add(int64(n)) > e.maxPackets {
		e.packets.Add(int64(-n))
		return fmt.Errorf("%w: more than %d packets", ErrPacketBudget, e.maxPackets)
	}
	return nil
}

// Packets returns how many packets the attackers have sent so far.
func (e *Env) Packets() int64 { return e.packets.Load() }

// read fills b from Rand.
func (e *Env) read(b []byte) error {
	e.randMu.Lock()
	defer e.randMu.Unlock()
	if _, err := io.ReadFull(e.Rand, b); err != nil {
		return fmt.Errorf("lab: randomness: %w", err)
	}
	return nil
}

// uint64n returns a number in [0, n) from Rand.
func (e *Env) uint64n(n uint64) (uint64, error) {
	var b [8]byte
	if err := e.read(b[:]); err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v % n, nil
}

// dial connects like net.Dialer after checking addr, or fails with an
// error wrapping ErrNotLoopback.
func (e *Env) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// listenUDP opens a UDP socket on addr after checking it.
func (e *Env) listenUDP(addr string) (*net.UDPConn, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return c, nil
}

// listenTCP opens a TCP listener on addr after checking it.
func (e *Env) listenTCP(addr string) (net.Listener, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return ln, nil
}

// clock is a lab clock that only moves when told: the resolvers of the
// takeover scenario see TTLs expire between steps without waiting.
type clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
