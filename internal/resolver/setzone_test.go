package resolver

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestSetZoneGlueApart checks that the servers of a delegation, whose
// glue addresses share one array, each get their own addresses, and that
// adding an address to one server (as servers.go does) leaves the next
// server's alone.
func TestSetZoneGlueApart(t *testing.T) {
	t.Parallel()
	r := newFakeResolver(t, newFakeWorld(t, ""), Config{})
	q := r.newQuery(&budget{active: map[qkey]bool{}}, "www.example.test.", dns.TypeA, dns.ClassINET, 0)
	rr := func(s string) dns.RR {
		x, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	ns := []*dns.NS{rr("example.test. 60 IN NS a.example.test.").(*dns.NS), rr("example.test. 60 IN NS b.example.test.").(*dns.NS)}
	glue := []dns.RR{rr("a.example.test. 60 IN A 192.0.2.1"), rr("b.example.test. 60 IN A 192.0.2.2"),
		rr("a.example.test. 60 IN A 192.0.2.3")}
	q.setZone("example.test.", ns, glue)
	want := map[string][]netip.Addr{
		"a.example.test.": {netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.3")},
		"b.example.test.": {netip.MustParseAddr("192.0.2.2")},
	}
	if len(q.servers) != 2 {
		t.Fatalf("%d servers, want 2", len(q.servers))
	}
	for _, s := range q.servers {
		if !slices.Equal(s.addrs, want[s.name]) {
			t.Errorf("%s: %v, want %v", s.name, s.addrs, want[s.name])
		}
	}
	byName := slices.Clone(q.servers) // a first: its addresses come first in the shared array
	slices.SortFunc(byName, func(x, y *nsServer) int { return strings.Compare(x.name, y.name) })
	for _, s := range byName {
		s.addrs = append(s.addrs, netip.MustParseAddr("198.51.100.9"))
		want[s.name] = append(want[s.name], netip.MustParseAddr("198.51.100.9"))
	}
	for _, s := range q.servers {
		if !slices.Equal(s.addrs, want[s.name]) {
			t.Errorf("after appending: %s: %v, want %v", s.name, s.addrs, want[s.name])
		}
	}
}
