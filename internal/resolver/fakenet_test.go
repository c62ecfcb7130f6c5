package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/transport"
	"github.com/rensa-dns/rensa/internal/zone"
)

// fakeNet is an in-process network for the resolver: a map from server
// address to a dns.Handler. An address without a handler is a black hole
// (the exchange times out); so is a handler that writes no reply. Nothing
// touches a socket.
type fakeNet struct {
	mu       sync.Mutex
	servers  map[netip.Addr]dns.Handler // guarded by mu
	sent     []sentQuery                // guarded by mu
	blocking map[netip.Addr]bool        // guarded by mu; wait for ctx
}

// sentQuery is one query the resolver sent, as the server saw it.
type sentQuery struct {
	server netip.Addr
	name   string // with the 0x20 case as sent
	qtype  uint16
	tcp    bool
	edns   bool
}

func newFakeNet() *fakeNet {
	return &fakeNet{servers: map[netip.Addr]dns.Handler{}, blocking: map[netip.Addr]bool{}}
}

func (f *fakeNet) handle(addr string, h dns.Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.servers[netip.MustParseAddr(addr)] = h
}

// zones serves the zones, given as origin and text pairs, from addr.
func (f *fakeNet) zones(t *testing.T, addr string, originText ...string) {
	t.Helper()
	var zs []*zone.Zone
	for i := 0; i < len(originText); i += 2 {
		zs = append(zs, dnstest.Zone(t, originText[i], originText[i+1]))
	}
	srv, err := auth.New(auth.Config{Zones: zone.NewSet(zs...)})
	if err != nil {
		t.Fatal(err)
	}
	f.handle(addr, srv)
}

func (f *fakeNet) exchange(ctx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
	f.mu.Lock()
	h := f.servers[server.Addr()]
	block := f.blocking[server.Addr()]
	f.sent = append(f.sent, sentQuery{server.Addr(), m.Question[0].Name, m.Question[0].Qtype, tcp, m.IsEdns0() != nil})
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, fmt.Errorf("%w: %s", transport.ErrTimeout, ctx.Err())
	}
	if h == nil {
		return nil, fmt.Errorf("%w: black hole %s", transport.ErrTimeout, server)
	}
	network := "udp"
	if tcp {
		network = "tcp"
	}
	w := &recorder{network: network}
	h.ServeDNS(w, m.Copy())
	if w.msg == nil {
		return nil, fmt.Errorf("%w: no reply from %s", transport.ErrTimeout, server)
	}
	return w.msg, nil
}

// queries returns the queries sent so far.
func (f *fakeNet) queries() []sentQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentQuery(nil), f.sent...)
}

// countTo counts the queries sent to addresses with the prefix.
func (f *fakeNet) countTo(prefix string) int {
	n := 0
	for _, q := range f.queries() {
		if strings.HasPrefix(q.server.String(), prefix) {
			n++
		}
	}
	return n
}

const (
	rootZone = `
. 86400 IN SOA a.root.test. h.root.test. 1 1800 900 604800 86400
. 86400 IN NS a.root.test.
test. 86400 IN NS ns.test.
ns.test. 86400 IN A 127.53.1.1`
	testZone = `
@ 86400 IN SOA ns h 1 1800 900 604800 300
@ 86400 IN NS ns
ns 86400 IN A 127.53.1.1
example 86400 IN NS ns1.example
ns1.example 86400 IN A 127.53.2.1`
	exampleZone = `
@ 3600 IN SOA ns1 h 1 1800 900 604800 300
@ 3600 IN NS ns1
ns1 3600 IN A 127.53.2.1
www 3600 IN A 192.0.2.10
alias 3600 IN CNAME www
big 3600 IN TXT "00 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "01 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "02 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "03 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "04 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "05 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "06 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "07 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "08 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "09 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "10 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "11 the quick brown fox jumps over the lazy dog, again and again and again and again and again"
big 3600 IN TXT "12 the quick brown fox jumps over the lazy dog, again and again and again and again and again"`
)

// newFakeWorld returns a fake network with a root (127.53.0.1), test.
// (127.53.1.1) with extra lines for scenario delegations, and
// example.test. (127.53.2.1).
func newFakeWorld(t *testing.T, testExtra string) *fakeNet {
	t.Helper()
	f := newFakeNet()
	f.zones(t, "127.53.0.1", ".", rootZone)
	f.zones(t, "127.53.1.1", "test.", testZone+"\n"+testExtra)
	f.zones(t, "127.53.2.1", "example.test.", exampleZone)
	return f
}

// newFakeResolver returns a resolver on f starting at its root.
func newFakeResolver(t *testing.T, f *fakeNet, cfg Config) *Resolver {
	t.Helper()
	cfg.Hints = Hints{NS: []string{"a.root.test."}, Addrs: map[string][]netip.Addr{"a.root.test.": {netip.MustParseAddr("127.53.0.1")}}}
	cfg.Exchange = f.exchange
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ask sends name/qtype with EDNS to r as a client on loopback over UDP.
func ask(r *Resolver, name string, qtype uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.SetEdns0(1232, false)
	w := &recorder{network: "udp"}
	r.ServeDNS(w, q)
	return w.msg
}

// ede returns the Extended DNS Error of m, or nil.
func ede(m *dns.Msg) *dns.EDNS0_EDE {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				return e
			}
		}
	}
	return nil
}
