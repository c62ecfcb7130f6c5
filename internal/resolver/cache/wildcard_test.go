package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestNSECsWildcard stores a wildcard RRset and finds it by owner and
// type, with its TTLs aged, until its own TTL (not the caller's bound)
// runs out; sets that are not a signed wildcard RRset of the type are
// refused.
func TestNSECsWildcard(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	c := NewNSECs(func() time.Time { return now })
	set := signedSet(t, "*.w.example. 60 IN A 192.0.2.1", now)
	c.AddWildcard("example.", "*.w.example.", dns.TypeA, set, time.Hour)
	c.AddWildcard("example.", "x.w.example.", dns.TypeA, set, time.Hour)     // not a wildcard
	c.AddWildcard("example.", "*.w.example.", dns.TypeTXT, set, time.Hour)   // no TXT in it
	c.AddWildcard("other.", "*.w.example.", dns.TypeA, set, time.Hour)       // not in the zone
	c.AddWildcard("example.", "*.v.example.", dns.TypeA, set[:1], time.Hour) // unsigned
	for _, k := range []struct {
		zone, owner string
		qtype       uint16
		want        bool
	}{
		{"example.", "*.w.example.", dns.TypeA, true},
		{"example.", "x.w.example.", dns.TypeA, false},
		{"example.", "*.w.example.", dns.TypeTXT, false},
		{"other.", "*.w.example.", dns.TypeA, false},
		{"example.", "*.v.example.", dns.TypeA, false},
	} {
		if _, ok := c.Wildcard(k.zone, k.owner, k.qtype); ok != k.want {
			t.Errorf("%s %s %s: found %v, want %v", k.zone, k.owner, dns.TypeToString[k.qtype], ok, k.want)
		}
	}
	now = now.Add(50 * time.Second)
	w, ok := c.Wildcard("example.", "*.W.example.", dns.TypeA)
	if !ok || len(w.RRs) != 2 || w.RRs[0].Header().Ttl != 10 {
		t.Fatalf("50 s on: %v %v", ok, w.RRs)
	}
	now = now.Add(10 * time.Second)
	if _, ok := c.Wildcard("example.", "*.w.example.", dns.TypeA); ok {
		t.Error("found after its TTL")
	}
}

// TestNSECsWildcardBound fills a zone past MaxWildcardsPerZone: it keeps
// no more, the newest kept and the soonest to expire dropped.
func TestNSECsWildcardBound(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	c := NewNSECs(func() time.Time { return now })
	for i := range MaxWildcardsPerZone + 10 {
		owner := fmt.Sprintf("*.w%d.example.", i)
		c.AddWildcard("example.", owner, dns.TypeA, signedSet(t, owner+" 3600 IN A 192.0.2.1", now), time.Duration(100+i)*time.Second)
	}
	if got := len(c.zones["example."].wild); got != MaxWildcardsPerZone {
		t.Errorf("%d wildcard RRsets kept, want %d", got, MaxWildcardsPerZone)
	}
	if _, ok := c.Wildcard("example.", fmt.Sprintf("*.w%d.example.", MaxWildcardsPerZone+9), dns.TypeA); !ok {
		t.Error("the newest was not kept")
	}
	if _, ok := c.Wildcard("example.", "*.w0.example.", dns.TypeA); ok {
		t.Error("the soonest to expire was kept")
	}
}
