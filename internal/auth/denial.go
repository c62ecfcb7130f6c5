package auth

import (
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/zone"
)

// denialKind is how a zone denies existence: not at all (unsigned), with
// an NSEC chain (RFC 4034 §4) or with an NSEC3 chain (RFC 5155).
type denialKind int

const (
	denialNone denialKind = iota
	denialNSEC
	denialNSEC3
)

// denialIndex finds the NSEC or NSEC3 records of one zone snapshot that
// match or cover a name. It is built once per zone (Server.denial) and
// never changed, like the zone itself.
type denialIndex struct {
	z    *zone.Zone
	kind denialKind
	// owners are the NSEC owners in canonical order (denialNSEC), or the
	// NSEC3 hashes in lowercase base32hex, which sort as the hashes do
	// (denialNSEC3).
	owners []string
	// nodes maps each NSEC3 hash to the node holding its NSEC3 record.
	nodes map[string]*zone.Node
	// iterations and salt are the NSEC3 parameters of the apex
	// NSEC3PARAM record (RFC 5155 §4), which every served NSEC3 shares.
	iterations uint16
	salt       string
}

// denialCache holds the denial indexes of the zones of one zone set. A
// Server replaces it when it finds another set being served, so an index
// never outlives the snapshot it was built from.
type denialCache struct {
	set     *zone.Set
	indexes sync.Map // *zone.Zone -> *lazyIndex
}

// lazyIndex builds a zone's index on first use, once.
type lazyIndex struct {
	once sync.Once
	idx  *denialIndex
}

// denial returns the denial index of z, a zone of the set being served,
// building it on first use.
func (s *Server) denial(z *zone.Zone) *denialIndex {
	set := s.zones.Load()
	c := s.denials.Load()
	if c == nil || c.set != set {
		fresh := &denialCache{set: set}
		if s.denials.CompareAndSwap(c, fresh) {
			c = fresh
		} else if c = s.denials.Load(); c == nil || c.set != set {
			return newDenialIndex(z) // the set is being swapped: build, do not keep
		}
	}
	v, _ := c.indexes.LoadOrStore(z, &lazyIndex{})
	l := v.(*lazyIndex)
	l.once.Do(func() { l.idx = newDenialIndex(z) })
	return l.idx
}

// newDenialIndex indexes z's NSEC3 chain when its apex has an NSEC3PARAM
// record, else its NSEC chain when the apex has an NSEC record. A chain
// with more than maxNSEC3Iterations iterations is not indexed, so the
// server never hashes for it (CheckNSEC3 keeps such zones out).
func newDenialIndex(z *zone.Zone) *denialIndex {
	idx := &denialIndex{z: z}
	apex := z.Apex()
	if params := apex.RRsets[dns.TypeNSEC3PARAM]; len(params) > 0 {
		p := params[0].(*dns.NSEC3PARAM)
		if p.Iterations > maxNSEC3Iterations {
			return idx
		}
		idx.kind, idx.iterations, idx.salt = denialNSEC3, p.Iterations, strings.TrimPrefix(p.Salt, "-")
		idx.nodes = map[string]*zone.Node{}
		for _, name := range z.Names() {
			n := z.Node(name)
			if hash, ok := idx.nsec3Hash(n, p); ok {
				idx.owners = append(idx.owners, hash)
				idx.nodes[hash] = n
			}
		}
		sort.Strings(idx.owners)
		return idx
	}
	if apex.Has(dns.TypeNSEC) {
		idx.kind = denialNSEC
		for _, name := range z.Names() { // already in canonical order
			if z.Node(name).Has(dns.TypeNSEC) {
				idx.owners = append(idx.owners, name)
			}
		}
	}
	return idx
}

// nsec3Hash returns the hash label of n when n holds an NSEC3 record of
// the zone's chain: owned by a single label below the apex, with the
// parameters of the NSEC3PARAM record p.
func (idx *denialIndex) nsec3Hash(n *zone.Node, p *dns.NSEC3PARAM) (string, bool) {
	rrs := n.RRsets[dns.TypeNSEC3]
	if len(rrs) == 0 || dnsname.Parent(n.Name) != idx.z.Origin {
		return "", false
	}
	r := rrs[0].(*dns.NSEC3)
	if r.Hash != p.Hash || r.Iterations != p.Iterations || !strings.EqualFold(r.Salt, p.Salt) {
		return "", false
	}
	label, _, _ := strings.Cut(n.Name, ".")
	return label, true
}

// match returns the node whose NSEC or NSEC3 record is for name itself,
// or nil.
func (idx *denialIndex) match(name string) *zone.Node {
	if idx.kind == denialNSEC3 {
		return idx.nodes[idx.hash(name)]
	}
	if n := idx.z.Node(name); n != nil && n.Has(dns.TypeNSEC) {
		return n
	}
	return nil
}

// cover returns the node whose NSEC or NSEC3 record covers name, which
// has none of its own: the one with the greatest owner (or hash) before
// name's, or the last one, whose record wraps around to the first
// (RFC 4034 §4.1.1, RFC 5155 §3.1.7).
func (idx *denialIndex) cover(name string) *zone.Node {
	if len(idx.owners) == 0 {
		return nil
	}
	var i int
	if idx.kind == denialNSEC3 {
		h := idx.hash(name)
		i = sort.SearchStrings(idx.owners, h) // first >= h
	} else {
		name = dnsname.Canonical(name)
		i = sort.Search(len(idx.owners), func(i int) bool { return dnsname.Compare(idx.owners[i], name) >= 0 })
	}
	if i == 0 {
		i = len(idx.owners)
	}
	owner := idx.owners[i-1]
	if idx.kind == denialNSEC3 {
		return idx.nodes[owner]
	}
	return idx.z.Node(owner)
}

// hash returns the NSEC3 hash of name in lowercase base32hex.
func (idx *denialIndex) hash(name string) string {
	return strings.ToLower(dns.HashName(dnsname.Canonical(name), dns.SHA1, idx.iterations, idx.salt))
}

// closestEncloserProof returns the NSEC3 records of the closest provable
// encloser proof for name (RFC 5155 §7.2.1): the NSEC3 matching the
// closest ancestor of name, from start up, that has one, and the NSEC3
// covering the next closer name below it. It returns that encloser too.
func (idx *denialIndex) closestEncloserProof(name, start string) (proof []*zone.Node, encloser string) {
	encloser = dnsname.Canonical(start)
	for {
		if m := idx.match(encloser); m != nil || encloser == idx.z.Origin || encloser == "." {
			return []*zone.Node{m, idx.cover(nextCloser(name, encloser))}, encloser
		}
		encloser = dnsname.Parent(encloser)
	}
}

// nextCloser returns the ancestor of name (or name) with one label more
// than encloser (RFC 5155 §1.3).
func nextCloser(name, encloser string) string {
	name = dnsname.Canonical(name)
	drop := dnsname.Labels(name) - dnsname.Labels(encloser) - 1
	off := 0
	for range drop {
		off, _ = dns.NextLabel(name, off)
	}
	return name[off:]
}

// wildcardOf returns the wildcard name at encloser: "*." prepended.
func wildcardOf(encloser string) string {
	if encloser == "." {
		return "*."
	}
	return "*." + encloser
}
