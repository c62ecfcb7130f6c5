package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/testbed"
	"github.com/rensa-dns/rensa/internal/transport"
)

// The lab's own hierarchy: a root, the TLD test. and example.test., the
// owner's zone every scenario attacks. cdn.test. is delegated to the
// simulated CDN's name server (127.53.2.7), which the takeover scenario
// runs itself. Addresses follow DESIGN.md's plan.
const (
	rootServer    = "127.53.0.1"
	tldServer     = "127.53.1.1"
	exampleServer = "127.53.2.1"
	cdnServer     = "127.53.2.7"
)

const rootZone = `$ORIGIN .
$TTL 86400
@                     IN SOA a.root-servers.test. hostmaster.nic.test. 1 1800 900 604800 86400
@              518400 IN NS  a.root-servers.test.
test.          172800 IN NS  ns1.nic.test.
ns1.nic.test.  172800 IN A   127.53.1.1
a.root-servers.test. 518400 IN A 127.53.0.1
`

const tldZone = `$ORIGIN test.
$TTL 3600
@               IN SOA ns1.nic.test. hostmaster.nic.test. 1 7200 900 1209600 300
@               IN NS  ns1.nic.test.
ns1.nic         IN A   127.53.1.1
a.root-servers  IN A   127.53.0.1
example         IN NS  ns1.example
ns1.example     IN A   127.53.2.1
cdn             IN NS  ns.cdn
ns.cdn          IN A   127.53.2.7
`

// exampleZone is the owner's zone. shop is the CNAME into the CDN that
// the takeover scenario leaves dangling; the CAA record allows ca-a.test
// only.
const exampleZone = `$ORIGIN example.test.
$TTL 3600
@     IN SOA ns1 hostmaster 1 7200 900 1209600 60
@     IN NS  ns1
ns1   IN A   127.53.2.1
@     IN A   192.0.2.1
@     IN CAA 0 issue "ca-a.test"
www   IN A   192.0.2.10
mail  IN A   192.0.2.25
shop  300 IN CNAME shop.example.cdn.test.
`

// labZones returns the specs of the lab hierarchy, without
// example.test. when the scenario serves it itself.
func labZones(withExample bool) []testbed.ZoneSpec {
	specs := []testbed.ZoneSpec{
		{Origin: ".", Text: rootZone, Server: rootServer, File: "lab root zone"},
		{Origin: "test.", Text: tldZone, Server: tldServer, File: "lab test. zone"},
	}
	if withExample {
		specs = append(specs, testbed.ZoneSpec{Origin: "example.test.", Text: exampleZone, Server: exampleServer, File: "lab example.test. zone"})
	}
	return specs
}

// labNet is a running lab network: a testbed, and servers the scenario
// runs itself, reached by their port-53 addresses like the testbed's.
type labNet struct {
	env *Env
	tb  *testbed.Testbed
	mu  sync.Mutex // guards extra and stops
	// extra maps the port-53 address of a lab-run server to where it
	// really listens.
	extra map[netip.Addr]netip.AddrPort
	stops []func()
}

// startNet checks every server address of specs and starts them.
func startNet(ctx context.Context, env *Env, specs []testbed.ZoneSpec) (*labNet, error) {
	return startNetWith(ctx, env, testbed.Config{Zones: specs})
}

// startNetWith is startNet for a testbed configuration: a signed one,
// say. Its servers get free ports.
func startNetWith(ctx context.Context, env *Env, cfg testbed.Config) (*labNet, error) {
	for _, s := range cfg.Zones {
		if err := CheckLoopback(s.Server); err != nil {
			return nil, err
		}
	}
	cfg.Port = testbed.PortFree
	if cfg.Signed && cfg.Rand == nil {
		cfg.Rand = lockedReader{env}
	}
	tb, err := testbed.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return &labNet{env: env, tb: tb, extra: map[netip.Addr]netip.AddrPort{}}, nil
}

// close stops everything the network runs.
func (n *labNet) close() {
	n.mu.Lock()
	stops := n.stops
	n.stops = nil
	n.mu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	_ = n.tb.Close()
}

// onClose runs f when the network closes.
func (n *labNet) onClose(f func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stops = append(n.stops, f)
}

// serve runs h as a DNS server (UDP and TCP) on ip, on a free port, and
// maps ip:53 to it. It returns where the server listens.
func (n *labNet) serve(h dns.Handler, ip netip.Addr) (netip.AddrPort, error) {
	ap, stop, err := serveDNS(server.Config{Handler: h}, ip)
	if err != nil {
		return netip.AddrPort{}, err
	}
	n.mapTo(ip, ap)
	n.onClose(stop)
	return ap, nil
}

// serveDNS runs a DNS server for cfg on ip, on a free port for UDP and
// TCP, with one UDP socket and no logs. It returns where it listens and
// the function that stops it.
func serveDNS(cfg server.Config, ip netip.Addr) (netip.AddrPort, func(), error) {
	if err := CheckLoopback(ip.String()); err != nil {
		return netip.AddrPort{}, nil, err
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.UDPSockets = 1
	srv, err := server.New(cfg)
	if err != nil {
		return netip.AddrPort{}, nil, fmt.Errorf("lab: %w", err)
	}
	udp, _, err := srv.Listen(netip.AddrPortFrom(ip, 0).String())
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return netip.AddrPort{}, nil, fmt.Errorf("lab: %w", err)
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return udp.(*net.UDPAddr).AddrPort(), stop, nil
}

// mapTo makes ip:53 reach ap, a server the scenario runs itself.
func (n *labNet) mapTo(ip netip.Addr, ap netip.AddrPort) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.extra[ip] = ap
}

// mapAddr maps a port-53 address to where its server listens.
func (n *labNet) mapAddr(addr string) string {
	ap, err := netip.ParseAddrPort(addr)
	if err == nil && ap.Port() == 53 {
		n.mu.Lock()
		real, ok := n.extra[ap.Addr()]
		n.mu.Unlock()
		if ok {
			return real.String()
		}
	}
	return n.tb.Addr(addr)
}

// dial is the network's dial function: it maps port-53 addresses and
// refuses anything outside loopback.
func (n *labNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return n.env.dial(ctx, network, n.mapAddr(addr))
}

// hints returns the root hints of the lab hierarchy.
func (n *labNet) hints() (resolver.Hints, error) {
	h, err := resolver.ParseHints(strings.NewReader(n.tb.RootHints()), "lab root hints")
	if err != nil {
		return resolver.Hints{}, fmt.Errorf("lab: %w", err)
	}
	return h, nil
}

// validator returns a DNSSEC validator trusting the testbed's root key.
func (n *labNet) validator() (*validate.Validator, error) {
	anchors, err := validate.ParseAnchors(strings.NewReader(n.tb.TrustAnchor()), "lab trust anchor")
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	v, err := validate.New(validate.Config{Anchors: anchors})
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return v, nil
}

// exchange is a plain Do53 exchange over the network: what a resolver
// without lab weakenings sends.
func (n *labNet) exchange() resolver.ExchangeFunc {
	return func(ctx context.Context, srv netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
		d := &transport.Do53{Addr: srv.String(), Timeout: queryTimeout, ForceTCP: tcp, Dial: n.dial}
		return d.Exchange(ctx, m)
	}
}

// resolver returns a rensa resolver for the network: cfg with the lab's
// root hints, and its dial function unless cfg has an Exchange.
func (n *labNet) resolver(cfg resolver.Config) (*resolver.Resolver, error) {
	h, err := n.hints()
	if err != nil {
		return nil, err
	}
	cfg.Hints = h
	if cfg.Exchange == nil && cfg.Dial == nil {
		cfg.Dial = n.dial
	}
	r, err := resolver.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return r, nil
}

// serveResolver runs r as a DNS server on ip and returns a client for it,
// which the audit packages use as their resolver.
func (n *labNet) serveResolver(r *resolver.Resolver, ip netip.Addr) (*transport.Do53, error) {
	ap, err := n.serve(r, ip)
	if err != nil {
		return nil, err
	}
	return &transport.Do53{Addr: ap.String(), Timeout: queryTimeout, Dial: n.env.dial}, nil
}

// firstA returns the first address of the A records in rrs for name, or
// "" when there is none.
func firstA(rrs []dns.RR) string {
	for _, rr := range rrs {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String()
		}
	}
	return ""
}

// errNoAnswer is returned when a lab lookup got no address.
var errNoAnswer = errors.New("lab: no address")

// discardLogger returns a logger that drops everything.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
