package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestNSECsBoundZones keeps at most MaxNSECZones zones however many
// signed zones a flood makes the resolver learn denials from (cache
// flooding through many zones): a zone with nothing live left goes
// first; when all are live, one makes room; the newest zone is kept.
func TestNSECsBoundZones(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	c := NewNSECs(func() time.Time { return now })
	add := func(zone string, ttl time.Duration) {
		soa := signedSet(t, zone+" 3600 IN SOA ns."+zone+" h."+zone+" 1 2 3 4 300", now)
		c.Add(zone, soa, [][]dns.RR{signedSet(t, "a."+zone+" 300 IN NSEC c."+zone+" A RRSIG NSEC", now)}, ttl)
	}
	zones := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.zones)
	}
	add("short.", time.Second) // expires first
	for i := range MaxNSECZones - 1 {
		add(fmt.Sprintf("z%04d.", i), time.Hour)
	}
	if n := zones(); n != MaxNSECZones {
		t.Fatalf("%d zones kept, want %d", n, MaxNSECZones)
	}
	now = now.Add(2 * time.Second)
	add("newer.", time.Hour)
	if n := zones(); n != MaxNSECZones {
		t.Errorf("%d zones kept after one more, want %d", n, MaxNSECZones)
	}
	if c.Len("short.") != 0 {
		t.Error("the zone with nothing live was kept, a live one dropped")
	}
	for i := range 50 {
		add(fmt.Sprintf("flood%03d.", i), time.Hour)
	}
	if n := zones(); n > MaxNSECZones {
		t.Errorf("%d zones kept, more than MaxNSECZones (%d)", n, MaxNSECZones)
	}
	if _, ok := c.Zone("x.flood049."); !ok {
		t.Error("the newest zone was not kept")
	}
}
