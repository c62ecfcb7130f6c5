package takeover_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/audit/takeover"
	"github.com/rensa-dns/rensa/internal/testbed"
	"github.com/rensa-dns/rensa/internal/testbed/testresolver"
	"github.com/rensa-dns/rensa/internal/transport"
	"github.com/rensa-dns/rensa/internal/zone"
)

// startResolver runs the testbed of specs and rensa's resolver over it.
func startResolver(t *testing.T, specs []testbed.ZoneSpec) string {
	return testresolver.Start(t, specs)
}

// newScanner returns a scanner asking the resolver at addr; cfg's other
// fields are kept.
func newScanner(t *testing.T, addr string, cfg takeover.Config) *takeover.Scanner {
	t.Helper()
	cfg.Resolver = &transport.Do53{Addr: addr, Timeout: 3 * time.Second}
	s, err := takeover.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// zoneRecords parses a zone text and returns its records to check.
func zoneRecords(t *testing.T, origin, text string) []takeover.Record {
	t.Helper()
	z, err := zone.Parse(strings.NewReader(text), origin, origin+"zone", zone.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return takeover.FromZone(z)
}

// loopbackDial sends every page fetch to addr, whatever the target.
func loopbackDial(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// zoneText joins lines into a zone file.
func zoneText(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// soaNS is the apex of a test zone served by ns (with its address).
func soaNS(origin, ns, ip string) []string {
	return []string{
		origin + " 3600 SOA " + ns + " hostmaster." + origin + " 1 7200 900 1209600 300",
		origin + " 3600 NS " + ns,
		ns + " 3600 A " + ip,
	}
}

// mustRR parses one record.
func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}
