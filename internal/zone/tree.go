package zone

import (
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// Record is one resource record and where it was read from. File and Line
// are empty for records that were not loaded from a file.
type Record struct {
	RR   dns.RR
	File string
	Line int
}

// Where returns "file:line" for the record, or "" when unknown.
func (r Record) Where() string {
	return position(r.File, r.Line)
}

// Node is the data at one owner name of a zone. A node without RRsets is an
// empty non-terminal (RFC 8020): it exists because names below it exist.
type Node struct {
	// Name is the owner name in canonical (lowercase) form.
	Name string
	// RRsets holds the records by type. RRSIG records are not here; they
	// are in Sigs, by the type they cover.
	RRsets map[uint16][]dns.RR
	// Sigs holds RRSIG records by the type they cover.
	Sigs map[uint16][]dns.RR
}

// Empty reports whether n is an empty non-terminal.
func (n *Node) Empty() bool { return len(n.RRsets) == 0 && len(n.Sigs) == 0 }

// Has reports whether n has an RRset of type t.
func (n *Node) Has(t uint16) bool { _, ok := n.RRsets[t]; return ok }

// Types returns the types present at n in ascending order, RRSIG included
// when signatures exist.
func (n *Node) Types() []uint16 {
	ts := make([]uint16, 0, len(n.RRsets)+1)
	for t := range n.RRsets {
		ts = append(ts, t)
	}
	if len(n.Sigs) > 0 {
		ts = append(ts, dns.TypeRRSIG)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts
}

// Zone is the immutable data of one zone: a tree of nodes keyed by
// canonical owner name. Build it with New (or Load); never change it after.
type Zone struct {
	// Origin is the zone's apex in canonical form.
	Origin string
	// Records are all records as given, in input order, with positions.
	Records []Record

	nodes map[string]*Node
	names []string // canonical order (RFC 4034 §6.1)
}

// New builds a zone from records. Records outside origin are ignored here
// (Check reports them); names between the apex and each owner become empty
// non-terminals. Exact duplicate records are kept once.
func New(origin string, records []Record) *Zone {
	z := &Zone{Origin: dnsname.Canonical(origin), nodes: map[string]*Node{}}
	for _, r := range records {
		z.Records = append(z.Records, r)
		owner := dnsname.Canonical(r.RR.Header().Name)
		if !dnsname.IsSubdomain(owner, z.Origin) {
			continue
		}
		z.add(owner, r.RR)
	}
	z.ensureNode(z.Origin)
	// Sort by precomputed keys: dnsname.Compare on every comparison costs
	// several times more in a zone of many names.
	type keyed struct{ key, name string }
	sorted := make([]keyed, 0, len(z.nodes))
	for name := range z.nodes {
		sorted = append(sorted, keyed{dnsname.SortKey(name), name})
	}
	slices.SortFunc(sorted, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	z.names = make([]string, len(sorted))
	for i, k := range sorted {
		z.names[i] = k.name
	}
	return z
}

// add files rr at owner, creating the node and its empty ancestors.
func (z *Zone) add(owner string, rr dns.RR) {
	n := z.ensureNode(owner)
	if sig, ok := rr.(*dns.RRSIG); ok {
		if !containsRR(n.Sigs[sig.TypeCovered], rr) {
			n.Sigs[sig.TypeCovered] = append(n.Sigs[sig.TypeCovered], rr)
		}
		return
	}
	t := rr.Header().Rrtype
	if !containsRR(n.RRsets[t], rr) {
		n.RRsets[t] = append(n.RRsets[t], rr)
	}
}

// ensureNode returns the node for name, creating it and every missing
// ancestor up to the apex.
func (z *Zone) ensureNode(name string) *Node {
	if n, ok := z.nodes[name]; ok {
		return n
	}
	n := &Node{Name: name, RRsets: map[uint16][]dns.RR{}, Sigs: map[uint16][]dns.RR{}}
	z.nodes[name] = n
	if name != z.Origin && name != "." {
		z.ensureNode(dnsname.Parent(name))
	}
	return n
}

func containsRR(set []dns.RR, rr dns.RR) bool {
	for _, have := range set {
		if dns.IsDuplicate(have, rr) {
			return true
		}
	}
	return false
}

// Node returns the node at name (any case), or nil when the name does not
// exist in the zone.
func (z *Zone) Node(name string) *Node {
	return z.nodes[dnsname.Canonical(name)]
}

// Apex returns the node at the zone's origin.
func (z *Zone) Apex() *Node { return z.nodes[z.Origin] }

// SOA returns the apex SOA record, or nil if the zone has none.
func (z *Zone) SOA() *dns.SOA {
	if rrs := z.Apex().RRsets[dns.TypeSOA]; len(rrs) > 0 {
		return rrs[0].(*dns.SOA)
	}
	return nil
}

// Names returns every owner name of the zone, empty non-terminals
// included, in canonical order. The slice must not be modified.
func (z *Zone) Names() []string { return z.names }

// IsCut reports whether n is a delegation point: a node below the apex
// with NS records.
func (z *Zone) IsCut(n *Node) bool {
	return n.Name != z.Origin && n.Has(dns.TypeNS)
}

// CutAbove returns the highest delegation point at or above name (below
// the apex), or nil when name is authoritative data of this zone.
func (z *Zone) CutAbove(name string) *Node {
	name = dnsname.Canonical(name)
	var buf [maxStackLabels]int
	starts := labelStarts(name, buf[:0])
	apexLabels := dnsname.Labels(z.Origin)
	for i := len(starts) - apexLabels - 1; i >= 0; i-- {
		n := z.nodes[suffixFrom(name, starts[i])]
		if n != nil && z.IsCut(n) {
			return n
		}
	}
	return nil
}

// maxStackLabels is how many label offsets labelStarts keeps on the
// caller's stack: a name of 255 octets in wire form has at most 127
// labels. Longer presentation names still work; their offsets go to the
// heap.
const maxStackLabels = 128

// labelStarts appends to dst the offset of each label of name, a fully
// qualified name, from the left, as dns.Split does; the root has none.
// With dst backed by an array on the caller's stack it allocates nothing.
func labelStarts(name string, dst []int) []int {
	if name == "." {
		return dst
	}
	dst = append(dst, 0)
	for off, end := dns.NextLabel(name, 0); !end; off, end = dns.NextLabel(name, off) {
		dst = append(dst, off)
	}
	return dst
}

// suffixFrom returns the ancestor of name, a fully qualified name, that
// starts at label offset off: the labels from there joined with dots,
// made fully qualified, as dns.Fqdn(strings.Join(labels[i:], ".")) over
// dns.SplitDomainName(name) would build it, but as a substring of name.
func suffixFrom(name string, off int) string {
	if body := name[off : len(name)-1]; dns.IsFqdn(body) {
		return body // name ended in an empty label; Fqdn adds nothing
	}
	return name[off:]
}

// position formats a file position as "file:line", or "" when unknown.
func position(file string, line int) string {
	switch {
	case file == "" && line == 0:
		return ""
	case file == "":
		return "line " + itoa(line)
	case line == 0:
		return file
	}
	return file + ":" + itoa(line)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	p := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		p--
		b[p] = '-'
	}
	return string(b[p:])
}
