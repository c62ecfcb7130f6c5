package lab

// ---------------------------------------------------------------------
// LAB ONLY: a deliberately broken resolver. Nothing outside this package
// can reach it, and nothing in rensa must ever look like it.
// ---------------------------------------------------------------------

import (
	"context"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver"
)

// naiveResolver is a "2008-style" caching resolver, as the Kaminsky
// attack found them: it caches every record of every reply, answer,
// authority and additional sections alike, newest first, with no
// ranking (RFC 2181 section 5.4.1) and no bailiwick check. A reply for a
// random name that carries "example.test. NS ns.attacker.test." replaces
// the delegation it learnt from the parent.
type naiveResolver struct {
	roots    []netip.Addr
	exchange resolver.ExchangeFunc
	mu       sync.Mutex // guards cache
	cache    map[naiveKey][]dns.RR
}

// naiveKey names a cached RRset.
type naiveKey struct {
	name  string
	qtype uint16
}

func newNaiveResolver(h resolver.Hints, exchange resolver.ExchangeFunc) *naiveResolver {
	n := &naiveResolver{exchange: exchange, cache: map[naiveKey][]dns.RR{}}
	for _, ns := range h.NS {
		n.roots = append(n.roots, h.Addrs[ns]...)
	}
	return n
}

// lookup returns the cached RRset of name and qtype.
func (n *naiveResolver) lookup(name string, qtype uint16) []dns.RR {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cache[naiveKey{strings.ToLower(name), qtype}]
}

// store caches every RRset of reply, replacing what was there: the flaw.
func (n *naiveResolver) store(reply *dns.Msg) {
	sets := map[naiveKey][]dns.RR{}
	for _, sec := range [][]dns.RR{reply.Answer, reply.Ns, reply.Extra} {
		for _, rr := range sec {
			h := rr.Header()
			if h.Rrtype == dns.TypeOPT {
				continue
			}
			k := naiveKey{strings.ToLower(h.Name), h.Rrtype}
			sets[k] = append(sets[k], rr)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, rrs := range sets {
		n.cache[k] = rrs
	}
}

// servers returns the addresses of the closest zone's servers the cache
// knows for name, or the root's.
func (n *naiveResolver) servers(name string) (string, []netip.Addr) {
	for z := dns.CanonicalName(name); ; {
		var addrs []netip.Addr
		for _, rr := range n.lookup(z, dns.TypeNS) {
			for _, a := range n.lookup(rr.(*dns.NS).Ns, dns.TypeA) {
				if ip, ok := netip.AddrFromSlice(a.(*dns.A).A.To4()); ok {
					addrs = append(addrs, ip)
				}
			}
		}
		if len(addrs) > 0 {
			return z, addrs
		}
		if z == "." {
			return ".", n.roots
		}
		z = parentName(z)
	}
}

// Resolve looks name up, iteratively, and returns the A records it ends
// with (nil for a negative answer or a failure).
func (n *naiveResolver) Resolve(ctx context.Context, name string) []dns.RR {
	name = dns.CanonicalName(name)
	lastZone := ""
	for range naiveMaxSteps {
		if rrs := n.lookup(name, dns.TypeA); rrs != nil {
			return rrs
		}
		if c := n.lookup(name, dns.TypeCNAME); c != nil {
			name = dns.CanonicalName(c[0].(*dns.CNAME).Target)
			continue
		}
		zone, addrs := n.servers(name)
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		q.RecursionDesired = false
		reply, err := n.exchange(ctx, netip.AddrPortFrom(addrs[0], 53), q, false)
		if err != nil {
			return nil
		}
		n.store(reply)
		referral := len(reply.Answer) == 0 && len(reply.Ns) > 0 && reply.Ns[0].Header().Rrtype == dns.TypeNS
		switch {
		case reply.Rcode != dns.RcodeSuccess:
			return nil
		case len(reply.Answer) > 0:
			// Whatever the answer held is cached now; look again.
			if n.lookup(name, dns.TypeA) == nil && n.lookup(name, dns.TypeCNAME) == nil {
				return nil
			}
		case referral && zone != lastZone:
			lastZone = zone
		default:
			return nil
		}
	}
	return nil
}

// parentName returns the parent of a canonical name ("." for a TLD).
func parentName(name string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 && i+1 < len(name) {
		return name[i+1:]
	}
	return "."
}
