package testbed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/ratelimit"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/zone"
)

// Port modes for Config.Port besides a port number.
const (
	// PortAuto serves on port 53 when running as root and every address
	// is free, and on free ports (see PortFree) otherwise.
	PortAuto = 0
	// PortFree serves each name server on a free port chosen by the
	// system, even as root. Tests use it so they never collide with a
	// testbed on port 53 or with each other; Testbed.Dial reaches the
	// servers by their port-53 addresses.
	PortFree = -1
)

// shutdownTimeout bounds how long Close waits for each server to finish
// the queries in flight.
const shutdownTimeout = 5 * time.Second

// Config describes a testbed. The zero value runs the default hierarchy.
type Config struct {
	// Zones are the zones to serve, each on one server address. Default:
	// Default(), the embedded hierarchy.
	Zones []ZoneSpec

	// Port is the port every server listens on, or PortAuto (the
	// default, 0) or PortFree. A port other than 53 is reached through
	// Testbed.Dial, which maps ip:53 to the real port.
	Port int

	// Logger receives the servers' logs. Default: discarded.
	Logger *slog.Logger

	// Signed signs every zone (but those whose spec says Unsigned) with
	// a KSK and a ZSK made at start (ECDSAP256SHA256), puts each child's
	// DS in its parent, and makes the root's trust anchor
	// (Testbed.TrustAnchor). Default false: no zone is signed.
	Signed bool

	// Now is the signing time of a signed testbed; signatures are valid
	// from an hour before it for 14 days. Default time.Now.
	Now func() time.Time

	// Rand is the source of a signed testbed's keys and signature
	// jitter. Default crypto/rand.
	Rand io.Reader
}

// ZoneSpec is one zone on one name server. Serving a zone from two servers
// takes two specs with the same origin and text; one server may serve
// several zones.
type ZoneSpec struct {
	// Origin is the zone's apex, such as "example.test.".
	Origin string
	// Text is the zone's master file (RFC 1035 section 5). Relative
	// names are relative to Origin.
	Text string
	// Server is the IP address of the name server, on loopback: by the
	// address plan 127.53.0.1 for the root, 127.53.1.x for TLDs and
	// 127.53.2.x for the zones below.
	Server string
	// File names Text in error messages. Default: "<Origin> zone".
	File string
	// NSEC3 makes a signed testbed deny existence in this zone with
	// NSEC3 (RFC 9276 parameters: no extra iterations, no salt) instead
	// of NSEC. Default false.
	NSEC3 bool
	// Unsigned leaves this zone unsigned in a signed testbed, so its
	// parent proves it insecure (no DS). Default false.
	Unsigned bool
}

// ServerInfo describes one running name server of a testbed.
type ServerInfo struct {
	// Names are the host names the hierarchy gives this server: owners
	// of A/AAAA records with its address that some NS record names.
	Names []string
	// Addr is where the server listens, as ip:port.
	Addr string
	// Origins are the zones it serves, in canonical order.
	Origins []string
}

// Testbed is a running DNS hierarchy on loopback. It is safe for
// concurrent use; it never changes after Start returns, until Close.
type Testbed struct {
	servers []*nameServer      // in address order
	ports   map[netip.Addr]int // server address -> listening port
	hints   string             // root hints text, "" without a root zone
	anchor  string             // root trust anchor, "" unless signed
	logger  *slog.Logger
	closeFn func() error // closes every server once
}

// nameServer is one authoritative server of the testbed.
type nameServer struct {
	ip    netip.Addr
	zones []*zone.Zone
	info  ServerInfo
	srv   *server.Server // nil until listening
}

// Start builds every zone, then starts one authoritative server per
// address and returns when all of them listen. ctx bounds the start only;
// Close stops the servers. A zone with errors (as zone.Check reports them)
// fails the start, naming the zone and the line.
func Start(ctx context.Context, cfg Config) (*Testbed, error) {
	if cfg.Zones == nil {
		cfg.Zones = Default()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Port < PortFree || cfg.Port > 65535 {
		return nil, fmt.Errorf("testbed: port %d out of range", cfg.Port)
	}
	servers, err := plan(cfg.Zones)
	if err != nil {
		return nil, err
	}
	tb := &Testbed{servers: servers, logger: cfg.Logger}
	if cfg.Signed {
		if err := tb.sign(cfg, cfg.Zones); err != nil {
			return nil, err
		}
	}
	tb.hints = rootHints(servers)
	if err := tb.listen(ctx, cfg.Port); err != nil {
		return nil, err
	}
	tb.closeFn = sync.OnceValue(tb.shutdown)
	return tb, nil
}

// plan parses the zones and groups them by server address.
func plan(specs []ZoneSpec) ([]*nameServer, error) {
	if len(specs) == 0 {
		return nil, errors.New("testbed: no zones")
	}
	byIP := map[netip.Addr]*nameServer{}
	for _, spec := range specs {
		ip, err := netip.ParseAddr(spec.Server)
		if err != nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("testbed: zone %s: server %q is not a loopback address", spec.Origin, spec.Server)
		}
		z, err := parseZone(spec)
		if err != nil {
			return nil, err
		}
		ns := byIP[ip]
		if ns == nil {
			ns = &nameServer{ip: ip}
			byIP[ip] = ns
		}
		for _, have := range ns.zones {
			if have.Origin == z.Origin {
				return nil, fmt.Errorf("testbed: zone %s is given twice for server %s", z.Origin, ip)
			}
		}
		ns.zones = append(ns.zones, z)
	}
	servers := make([]*nameServer, 0, len(byIP))
	for _, ns := range byIP {
		servers = append(servers, ns)
	}
	slices.SortFunc(servers, func(a, b *nameServer) int { return a.ip.Compare(b.ip) })
	names := serverNames(servers)
	for _, ns := range servers {
		set := zone.NewSet(ns.zones...)
		ns.info = ServerInfo{Names: names[ns.ip], Origins: set.Origins()}
	}
	return servers, nil
}

// parseZone parses one spec and rejects zones with errors.
func parseZone(spec ZoneSpec) (*zone.Zone, error) {
	file := spec.File
	if file == "" {
		file = spec.Origin + " zone"
	}
	z, err := zone.Parse(strings.NewReader(spec.Text), spec.Origin, file, zone.LoadOptions{})
	if err != nil {
		return nil, fmt.Errorf("testbed: %w", err)
	}
	var errs []error
	for _, f := range z.Check() {
		if f.Severity == zone.Error {
			errs = append(errs, fmt.Errorf("testbed: zone %s: %s", z.Origin, f))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return z, nil
}

// listen starts every server on the port the mode asks for. In PortAuto
// mode as root it tries port 53 first and falls back to free ports when
// an address is taken.
func (tb *Testbed) listen(ctx context.Context, port int) error {
	if port == PortAuto && os.Geteuid() != 0 {
		port = PortFree
	}
	if port == PortAuto {
		err := tb.listenAll(ctx, 53)
		if err == nil || ctx.Err() != nil {
			return err
		}
		tb.logger.Warn("testbed: port 53 unavailable, using free ports", "err", err)
		port = PortFree
	}
	return tb.listenAll(ctx, port)
}

// listenAll starts all servers on port (or free ports for PortFree); on
// failure it stops those already started.
func (tb *Testbed) listenAll(ctx context.Context, port int) error {
	tb.ports = make(map[netip.Addr]int, len(tb.servers))
	for _, ns := range tb.servers {
		err := ctx.Err()
		if err == nil {
			err = tb.start(ns, port)
		}
		if err != nil {
			_ = tb.shutdown()
			return err
		}
		tb.ports[ns.ip] = portOf(ns.info.Addr)
	}
	return nil
}

// start runs the authoritative server for ns and listens on port.
func (tb *Testbed) start(ns *nameServer, port int) error {
	logger := tb.logger.With("server", ns.ip.String())
	nsid := ns.ip.String()
	if len(ns.info.Names) > 0 {
		nsid = strings.TrimSuffix(ns.info.Names[0], ".")
	}
	a, err := auth.New(auth.Config{Zones: zone.NewSet(ns.zones...), NSID: nsid, Logger: logger})
	if err != nil {
		return fmt.Errorf("testbed: server %s: %w", ns.ip, err)
	}
	// The testbed serves like production (cookies, the fast path), except
	// for rate limiting: every test resolver queries from 127.0.0.1, and
	// one /24 budget shared by parallel tests would make them flaky.
	st, err := auth.NewStack(a, auth.StackConfig{RRL: ratelimit.Config{Disabled: true}})
	if err != nil {
		return fmt.Errorf("testbed: server %s: %w", ns.ip, err)
	}
	// One UDP socket is plenty on loopback, and without SO_REUSEPORT no
	// other process can share (and steal from) the address.
	srv, err := server.New(server.Config{Handler: st.Handler, RawHandler: st.RawHandler, Logger: logger, UDPSockets: 1})
	if err != nil {
		return fmt.Errorf("testbed: server %s: %w", ns.ip, err)
	}
	if port == PortFree {
		port = 0 // the server finds a port free for both UDP and TCP
	}
	addr, _, err := srv.Listen(netip.AddrPortFrom(ns.ip, uint16(port)).String())
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("testbed: server %s: %w", ns.ip, err)
	}
	ns.srv = srv
	ns.info.Addr = addr.String()
	return nil
}

// shutdown stops every started server.
func (tb *Testbed) shutdown() error {
	var errs []error
	for _, ns := range tb.servers {
		if ns.srv == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		errs = append(errs, ns.srv.Shutdown(ctx))
		cancel()
		ns.srv = nil
	}
	return errors.Join(errs...)
}

// Close stops every server, waiting up to a few seconds for each to finish
// the queries in flight. Calling it again returns the first result.
func (tb *Testbed) Close() error { return tb.closeFn() }

// Servers describes the running name servers, in address order.
func (tb *Testbed) Servers() []ServerInfo {
	out := make([]ServerInfo, len(tb.servers))
	for i, ns := range tb.servers {
		out[i] = ns.info
		out[i].Names = slices.Clone(ns.info.Names)
		out[i].Origins = slices.Clone(ns.info.Origins)
	}
	return out
}

// Addr maps the port-53 address of a testbed server ("127.53.0.1:53") to
// the address it really listens on. Any other address is returned as is.
func (tb *Testbed) Addr(addr string) string {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || ap.Port() != 53 {
		return addr
	}
	if port, ok := tb.ports[ap.Addr()]; ok {
		return netip.AddrPortFrom(ap.Addr(), uint16(port)).String()
	}
	return addr
}

// Dial connects like net.Dialer.DialContext, after mapping addr with Addr.
// Give it to a client or resolver as its dial function, and it can follow
// referrals and glue (which always say port 53) whatever ports the
// testbed uses.
func (tb *Testbed) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, tb.Addr(addr))
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
