package zone

import (
	"sort"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// Set is an immutable collection of zones keyed by origin. Servers hold a
// *Set in an atomic.Pointer and swap in a new one on reload.
type Set struct {
	zones map[string]*Zone
}

// NewSet returns a set of the given zones; a later zone with the same
// origin replaces an earlier one.
func NewSet(zones ...*Zone) *Set {
	s := &Set{zones: make(map[string]*Zone, len(zones))}
	for _, z := range zones {
		s.zones[z.Origin] = z
	}
	return s
}

// Zone returns the zone with exactly this origin, or nil.
func (s *Set) Zone(origin string) *Zone {
	if s == nil {
		return nil
	}
	return s.zones[dnsname.Canonical(origin)]
}

// Closest returns the zone with the longest origin that contains name, or
// nil when no zone does.
func (s *Set) Closest(name string) *Zone {
	if s == nil {
		return nil
	}
	name = dnsname.Canonical(name)
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if z := s.zones[name[off:]]; z != nil {
			return z
		}
	}
	return s.zones["."]
}

// Origins returns the origins of the set in canonical order.
func (s *Set) Origins() []string {
	out := make([]string, 0, len(s.zones))
	for o := range s.zones {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return dnsname.Compare(out[i], out[j]) < 0 })
	return out
}

// Len returns the number of zones.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.zones)
}
