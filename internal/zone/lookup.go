package zone

import (
	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// Kind classifies the outcome of a lookup (RFC 1034 §4.3.2 step 3).
type Kind int

// The kinds of lookup results.
const (
	// Success: the name exists and has the asked type (or ANY matched).
	Success Kind = iota
	// CNAME: the name owns a CNAME and another type was asked.
	CNAME
	// DNAME: an ancestor of the name owns a DNAME (RFC 6672).
	DNAME
	// Delegation: the name is at or below a zone cut.
	Delegation
	// NoData: the name exists (possibly as an empty non-terminal) but has
	// no data of the asked type.
	NoData
	// NameError: the name does not exist and no wildcard covers it.
	NameError
)

var kindNames = [...]string{"Success", "CNAME", "DNAME", "Delegation", "NoData", "NameError"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + itoa(int(k)) + ")"
}

// Result is what Lookup found. Records in Answer are owned by the zone and
// must be copied before they are changed.
type Result struct {
	Kind Kind
	// Node is the node that matched: the name itself, the wildcard that
	// synthesised it, the delegation point or the DNAME owner. Nil for
	// NameError.
	Node *Node
	// Answer holds the matched RRsets: the asked type (all types for ANY)
	// for Success, the CNAME for CNAME, the DNAME for DNAME. Owner names
	// are the node's: a wildcard answer must be rewritten to the query name.
	Answer []dns.RR
	// Wildcard is true when the answer was synthesised from Node, a
	// wildcard (RFC 4592).
	Wildcard bool
	// ClosestEncloser is the longest existing ancestor of the query name
	// (the name itself when it exists). Denial-of-existence proofs use it.
	ClosestEncloser string
}

// Lookup finds qname/qtype in the zone following RFC 1034 §4.3.2, with
// wildcards per RFC 4592 and DNAME per RFC 6672. qname must be at or below
// the zone's origin. A DS query at a delegation point is answered from
// this (the parent) side of the cut.
func (z *Zone) Lookup(qname string, qtype uint16) Result {
	qname = dnsname.Canonical(qname)
	var buf [maxStackLabels]int
	starts := labelStarts(qname, buf[:0])
	skip := len(starts) - dnsname.Labels(z.Origin)
	encloser := z.Apex()
	// Walk down from the apex, one label at a time. Each ancestor is a
	// suffix of qname, so the node map is indexed without new strings.
	for i := skip - 1; i >= 0; i-- {
		if r, stop := z.stopAt(encloser, qname); stop {
			return r
		}
		next := z.nodes[suffixFrom(qname, starts[i])]
		if next == nil {
			return z.noSuchName(qname, qtype, encloser)
		}
		encloser = next
	}
	return z.atName(encloser, qtype)
}

// stopAt checks an existing ancestor of qname, met during the walk down,
// for a zone cut or a DNAME, which end the walk.
func (z *Zone) stopAt(n *Node, qname string) (Result, bool) {
	if z.IsCut(n) {
		return z.delegation(n), true
	}
	if rrs, ok := n.RRsets[dns.TypeDNAME]; ok && n.Name != qname {
		return Result{Kind: DNAME, Node: n, Answer: rrs, ClosestEncloser: n.Name}, true
	}
	return Result{}, false
}

// atName answers for a node whose name is the query name.
func (z *Zone) atName(n *Node, qtype uint16) Result {
	if z.IsCut(n) && qtype != dns.TypeDS {
		return z.delegation(n)
	}
	r := matchNode(n, qtype)
	r.ClosestEncloser = n.Name
	return r
}

// matchNode classifies the data at n for qtype, ignoring cuts.
func matchNode(n *Node, qtype uint16) Result {
	switch {
	case qtype == dns.TypeANY && !n.Empty():
		var all []dns.RR
		for _, t := range n.Types() {
			if t != dns.TypeRRSIG {
				all = append(all, n.RRsets[t]...)
			}
		}
		return Result{Kind: Success, Node: n, Answer: all}
	case n.Has(qtype):
		return Result{Kind: Success, Node: n, Answer: n.RRsets[qtype]}
	case qtype == dns.TypeRRSIG && len(n.Sigs) > 0:
		var sigs []dns.RR
		for _, t := range n.Types() {
			sigs = append(sigs, n.Sigs[t]...)
		}
		return Result{Kind: Success, Node: n, Answer: sigs}
	case n.Has(dns.TypeCNAME):
		return Result{Kind: CNAME, Node: n, Answer: n.RRsets[dns.TypeCNAME]}
	}
	return Result{Kind: NoData, Node: n}
}

// noSuchName handles a query name that does not exist below encloser, its
// closest encloser: a wildcard at the source of synthesis answers, or the
// name does not exist (RFC 4592 §3.3.1).
func (z *Zone) noSuchName(qname string, qtype uint16, encloser *Node) Result {
	if wild := z.wildcardAt(encloser.Name); wild != nil {
		r := matchNode(wild, qtype)
		r.Wildcard = true
		r.ClosestEncloser = encloser.Name
		return r
	}
	return Result{Kind: NameError, ClosestEncloser: encloser.Name}
}

// wildcardAt returns the wildcard node that is the source of synthesis
// for a closest encloser ("*." prepended; "*." for the root), or nil. The
// name is built on the stack: indexing a map with a converted byte slice
// allocates nothing.
func (z *Zone) wildcardAt(encloser string) *Node {
	var buf [2 + 256]byte
	name := append(buf[:0], "*."...)
	if encloser != "." {
		name = append(name, encloser...)
	}
	return z.nodes[string(name)]
}

func (z *Zone) delegation(n *Node) Result {
	return Result{Kind: Delegation, Node: n, Answer: n.RRsets[dns.TypeNS], ClosestEncloser: n.Name}
}
