package cache

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Infra is what the resolver knows about upstream servers: smoothed
// round-trip time, servers lame for a zone, and per-server fallbacks
// (0x20 case randomisation not echoed, EDNS not understood). It is safe for
// concurrent use.
type Infra struct {
	now func() time.Time

	mu    sync.Mutex
	hosts map[netip.Addr]*host  // guarded by mu
	lame  map[lameKey]time.Time // guarded by mu; value is the expiry
}

type host struct {
	srtt      time.Duration
	noCase    time.Time // 0x20 off until
	noEDNS    time.Time // EDNS off until
	timeouts  int       // consecutive
	lastTouch time.Time
}

type lameKey struct {
	addr netip.Addr
	zone string
}

// NewInfra returns an empty infra cache using the clock now (nil:
// time.Now).
func NewInfra(now func() time.Time) *Infra {
	if now == nil {
		now = time.Now
	}
	return &Infra{now: now, hosts: map[netip.Addr]*host{}, lame: map[lameKey]time.Time{}}
}

// RTT returns the smoothed round-trip time of addr: initialRTT for a
// server never measured.
func (in *Infra) RTT(addr netip.Addr) time.Duration {
	in.mu.Lock()
	defer in.mu.Unlock()
	if h := in.hosts[addr]; h != nil {
		return h.srtt
	}
	return initialRTT
}

// Success records a reply from addr that took rtt, smoothing as TCP does
// (RFC 6298: srtt = 7/8 srtt + 1/8 rtt).
func (in *Infra) Success(addr netip.Addr, rtt time.Duration) {
	in.mu.Lock()
	defer in.mu.Unlock()
	h := in.host(addr)
	h.srtt = (7*h.srtt + rtt) / 8
	h.timeouts = 0
}

// Timeout records that addr did not answer: its RTT is charged a
// timeout, so other servers are preferred.
func (in *Infra) Timeout(addr netip.Addr) {
	in.mu.Lock()
	defer in.mu.Unlock()
	h := in.host(addr)
	h.srtt = (7*h.srtt + timeoutRTT) / 8
	h.timeouts++
}

// SetLame marks addr as lame for zone (it answered without authority,
// refused, or failed) for lameTTL.
func (in *Infra) SetLame(addr netip.Addr, zone string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.lame) >= maxInfraHosts {
		clear(in.lame)
	}
	in.lame[lameKey{addr, strings.ToLower(zone)}] = in.now().Add(lameTTL)
}

// Lame reports whether addr is marked lame for zone.
func (in *Infra) Lame(addr netip.Addr, zone string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	until, ok := in.lame[lameKey{addr, strings.ToLower(zone)}]
	return ok && in.now().Before(until)
}

// SetNoCase records that addr does not echo the query name's case, so
// queries to it go without 0x20 randomisation for a while.
func (in *Infra) SetNoCase(addr netip.Addr) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.host(addr).noCase = in.now().Add(noCaseTTL)
}

// NoCase reports whether 0x20 is off for addr.
func (in *Infra) NoCase(addr netip.Addr) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	h := in.hosts[addr]
	return h != nil && in.now().Before(h.noCase)
}

// SetNoEDNS records that addr mishandles EDNS (FORMERR or NOTIMP to an
// EDNS query), so queries to it go without OPT for a while.
func (in *Infra) SetNoEDNS(addr netip.Addr) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.host(addr).noEDNS = in.now().Add(noEDNSTTL)
}

// NoEDNS reports whether EDNS is off for addr.
func (in *Infra) NoEDNS(addr netip.Addr) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	h := in.hosts[addr]
	return h != nil && in.now().Before(h.noEDNS)
}

// host returns addr's entry, creating it. in.mu must be held.
func (in *Infra) host(addr netip.Addr) *host {
	h := in.hosts[addr]
	if h == nil {
		if len(in.hosts) >= maxInfraHosts {
			in.evictOldest()
		}
		h = &host{srtt: initialRTT}
		in.hosts[addr] = h
	}
	h.lastTouch = in.now()
	return h
}

// evictOldest drops the least recently touched half of the hosts. in.mu
// must be held.
func (in *Infra) evictOldest() {
	var times []time.Time
	for _, h := range in.hosts {
		times = append(times, h.lastTouch)
	}
	// The median is found by sorting: the table is small and this is rare.
	slices.SortFunc(times, time.Time.Compare)
	cut := times[len(times)/2]
	for a, h := range in.hosts {
		if !h.lastTouch.After(cut) {
			delete(in.hosts, a)
		}
	}
}
