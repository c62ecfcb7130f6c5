package testbed

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/transport"
)

// startFree starts a testbed on free ports and closes it when the test
// ends.
func startFree(t *testing.T, zones []ZoneSpec) *Testbed {
	t.Helper()
	tb, err := Start(context.Background(), Config{Zones: zones, Port: PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tb.Close(); err != nil {
			t.Error(err)
		}
	})
	return tb
}

// ask sends a non-recursive query to server (an ip:53 address).
func ask(t *testing.T, tb *Testbed, server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	d := transport.Do53{Addr: server, Dial: tb.Dial}
	r, err := d.Exchange(context.Background(), m)
	if err != nil {
		t.Fatalf("%s %s to %s: %v", name, dns.TypeToString[qtype], server, err)
	}
	return r
}

func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	return out
}

func TestDefaultZonesAreClean(t *testing.T) {
	t.Parallel()
	servers, err := plan(Default())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(servers), 10; got != want {
		t.Errorf("%d servers, want %d", got, want)
	}
}

// TestHierarchy follows www.example.test A from the root as a resolver
// would, checking each referral and its glue.
func TestHierarchy(t *testing.T) {
	t.Parallel()
	tb := startFree(t, nil)

	steps := []struct {
		server    string
		wantAA    bool
		wantNS    []string // authority
		wantGlue  []string // additional, A records
		wantAnswr []string
	}{
		{"127.53.0.1:53", false,
			[]string{"test. 172800 IN NS ns1.nic.test.", "test. 172800 IN NS ns2.nic.test."},
			[]string{"ns1.nic.test. 172800 IN A 127.53.1.1", "ns2.nic.test. 172800 IN A 127.53.1.2"}, nil},
		{"127.53.1.2:53", false,
			[]string{"example.test. 3600 IN NS ns1.example.test.", "example.test. 3600 IN NS ns2.example.test."},
			[]string{"ns1.example.test. 3600 IN A 127.53.2.1", "ns2.example.test. 3600 IN A 127.53.2.2"}, nil},
		{"127.53.2.2:53", true, nil, nil, []string{"www.example.test. 3600 IN A 192.0.2.10"}},
	}
	for _, s := range steps {
		r := ask(t, tb, s.server, "www.example.test.", dns.TypeA)
		if r.Rcode != dns.RcodeSuccess || r.Authoritative != s.wantAA {
			t.Errorf("%s: rcode %s aa %v, want NOERROR aa %v", s.server, dns.RcodeToString[r.Rcode], r.Authoritative, s.wantAA)
		}
		var glue []dns.RR
		for _, rr := range r.Extra {
			if rr.Header().Rrtype == dns.TypeA {
				glue = append(glue, rr)
			}
		}
		for name, pair := range map[string][2][]string{
			"answer":    {rrStrings(r.Answer), s.wantAnswr},
			"authority": {rrStrings(r.Ns), s.wantNS},
			"glue":      {rrStrings(glue), s.wantGlue},
		} {
			if !reflect.DeepEqual(pair[0], pair[1]) {
				t.Errorf("%s: %s = %q, want %q", s.server, name, pair[0], pair[1])
			}
		}
	}
}

func TestServers(t *testing.T) {
	t.Parallel()
	tb := startFree(t, nil)
	want := map[string]ServerInfo{
		"127.53.0.1": {Names: []string{"a.root-servers.test."}, Origins: []string{"."}},
		"127.53.1.1": {Names: []string{"ns1.nic.test."}, Origins: []string{"test."}},
		"127.53.2.3": {Names: []string{"ns1.other.test."}, Origins: []string{"other.test.", "sibling.test."}},
		"127.53.2.5": {Names: []string{"ns.hosting.example.", "ns-glueless.other.test."}, Origins: []string{"glueless.test."}},
	}
	for _, s := range tb.Servers() {
		ap, err := netip.ParseAddrPort(s.Addr)
		if err != nil {
			t.Fatalf("Addr %q: %v", s.Addr, err)
		}
		if got := tb.Addr(netip.AddrPortFrom(ap.Addr(), 53).String()); got != s.Addr {
			t.Errorf("Addr(%s:53) = %s, want %s", ap.Addr(), got, s.Addr)
		}
		w, ok := want[ap.Addr().String()]
		if !ok {
			continue
		}
		delete(want, ap.Addr().String())
		if !reflect.DeepEqual(s.Names, w.Names) || !reflect.DeepEqual(s.Origins, w.Origins) {
			t.Errorf("%s: names %q origins %q, want %q %q", ap.Addr(), s.Names, s.Origins, w.Names, w.Origins)
		}
	}
	if len(want) > 0 {
		t.Errorf("servers missing: %v", want)
	}
	if got := tb.Addr("192.0.2.1:53"); got != "192.0.2.1:53" {
		t.Errorf("Addr of a foreign address = %q, want it unchanged", got)
	}
}

func TestRootHints(t *testing.T) {
	t.Parallel()
	tb := startFree(t, nil)
	want := "; Root hints for the rensa testbed, in the format of IANA's named.root.\n" +
		".                        3600000 IN NS a.root-servers.test.\n" +
		"a.root-servers.test.     3600000 IN A    127.53.0.1\n"
	if got := tb.RootHints(); got != want {
		t.Errorf("RootHints =\n%s\nwant\n%s", got, want)
	}
	path := filepath.Join(t.TempDir(), "root.hints")
	if err := tb.WriteRootHints(path); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != want {
		t.Errorf("hints file = %q, %v", b, err)
	}
	// The hints must parse as a zone file, as resolvers read them.
	zp := dns.NewZoneParser(strings.NewReader(want), ".", "hints")
	n := 0
	for _, ok := zp.Next(); ok; _, ok = zp.Next() {
		n++
	}
	if zp.Err() != nil || n != 2 {
		t.Errorf("hints parse: %d records, %v", n, zp.Err())
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	const good = "$TTL 300\n@ SOA ns hostmaster 1 2 3 4 5\n@ NS ns\nns A 127.53.9.1\n"
	tests := []struct {
		name  string
		zones []ZoneSpec
		port  int
		want  string
	}{
		{"no zones", []ZoneSpec{}, PortFree, "no zones"},
		{"not loopback", []ZoneSpec{{Origin: "a.test.", Text: good, Server: "192.0.2.1"}}, PortFree, "not a loopback address"},
		{"bad address", []ZoneSpec{{Origin: "a.test.", Text: good, Server: "ns1"}}, PortFree, "not a loopback address"},
		{"syntax error", []ZoneSpec{{Origin: "a.test.", Text: good + "www IN A not-an-address\n", Server: "127.53.9.1", File: "a.zone"}}, PortFree, "a.zone:5"},
		{"zone twice on one server", []ZoneSpec{{Origin: "a.test.", Text: good, Server: "127.53.9.1"}, {Origin: "a.test.", Text: good, Server: "127.53.9.1"}}, PortFree, "given twice"},
		{"bad port", []ZoneSpec{{Origin: "a.test.", Text: good, Server: "127.53.9.1"}}, 70000, "port 70000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tb, err := Start(context.Background(), Config{Zones: tt.zones, Port: tt.port})
			if err == nil {
				tb.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "testbed: ") {
				t.Errorf("error %q, want testbed: ... %q", err, tt.want)
			}
		})
	}
}

// TestPortAutoFallsBack holds port 53 of a server's address and checks
// that an automatic testbed moves to a free port instead of failing.
func TestPortAutoFallsBack(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root binds port 53; without root PortAuto uses free ports anyway")
	}
	const ip = "127.53.254.1"
	pc, err := net.ListenPacket("udp", ip+":53")
	if err != nil {
		t.Skipf("cannot hold %s:53 for the test: %v", ip, err)
	}
	defer pc.Close()
	zones := []ZoneSpec{{Origin: "a.test.", Server: ip,
		Text: "$TTL 300\n@ SOA ns hostmaster 1 2 3 4 5\n@ NS ns\nns A 127.53.254.1\nwww A 192.0.2.1\n"}}
	tb, err := Start(context.Background(), Config{Zones: zones})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if addr := tb.Servers()[0].Addr; strings.HasSuffix(addr, ":53") {
		t.Fatalf("server on %s, want a free port", addr)
	}
	if r := ask(t, tb, ip+":53", "www.a.test.", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("answer %v", r.Answer)
	}
}

func TestCloseStopsServers(t *testing.T) {
	t.Parallel()
	zones := []ZoneSpec{{Origin: "a.test.", Server: "127.53.9.2",
		Text: "$TTL 300\n@ SOA ns hostmaster 1 2 3 4 5\n@ NS ns\nns A 127.53.9.2\n"}}
	tb, err := Start(context.Background(), Config{Zones: zones, Port: PortFree})
	if err != nil {
		t.Fatal(err)
	}
	addr := tb.Servers()[0].Addr
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tb.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err = net.Dial("tcp", addr)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial after Close: %v, want connection refused", err)
	}
}

func TestStartHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if tb, err := Start(ctx, Config{Port: PortFree}); !errors.Is(err, context.Canceled) {
		if tb != nil {
			tb.Close()
		}
		t.Errorf("Start with a cancelled context: %v", err)
	}
}
