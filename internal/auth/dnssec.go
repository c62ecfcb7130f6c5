package auth

import (
	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/zone"
)

// prove adds to the authority section the NSEC or NSEC3 records that
// prove what res leaves out, when the client set DO and the zone is
// signed (RFC 4035 §3.1.3, RFC 5155 §7.2): that sname does not exist, that
// it has no data of the asked type, or that no closer name than the
// wildcard that answered exists. Each record goes in once, with its
// signatures. Delegations are handled by referral.
func (q *query) prove(sname string, res zone.Result) {
	if !q.rep.do {
		return
	}
	idx := q.s.denial(q.zone)
	if idx.kind == denialNone {
		return
	}
	var proof []*zone.Node
	switch {
	case res.Kind == zone.NameError:
		proof = idx.nameError(sname, res.ClosestEncloser)
	case res.Kind == zone.NoData && res.Wildcard:
		proof = idx.wildcardNoData(sname, res.ClosestEncloser, res.Node)
	case res.Kind == zone.NoData:
		proof = idx.noData(sname)
	case res.Wildcard && (res.Kind == zone.Success || res.Kind == zone.CNAME):
		proof = idx.wildcardAnswer(sname, res.ClosestEncloser)
	}
	q.addProof(idx, proof)
}

// proveNoDS adds the proof that the delegation at cut has no DS RRset
// (RFC 4035 §3.1.4, RFC 5155 §7.2.7): the NSEC or NSEC3 record of the cut,
// or, when opt-out left the cut out of an NSEC3 chain, the closest
// provable encloser proof for it, whose next closer NSEC3 has the Opt-Out
// flag set.
func (q *query) proveNoDS(cut *zone.Node) {
	idx := q.s.denial(q.zone)
	if idx.kind == denialNone {
		return
	}
	q.addProof(idx, idx.noData(cut.Name))
}

// addProof adds the NSEC or NSEC3 RRset of each node of proof to the
// authority section, skipping nil nodes and nodes already added.
func (q *query) addProof(idx *denialIndex, proof []*zone.Node) {
	t := uint16(dns.TypeNSEC)
	if idx.kind == denialNSEC3 {
		t = dns.TypeNSEC3
	}
	for i, n := range proof {
		if n == nil || containsNode(proof[:i], n) || containsNode(q.proved, n) {
			continue
		}
		q.proved = append(q.proved, n)
		q.rep.addAuthority(rrset{node: n, rrs: n.RRsets[t]})
	}
}

func containsNode(nodes []*zone.Node, n *zone.Node) bool {
	for _, have := range nodes {
		if have == n {
			return true
		}
	}
	return false
}

// nameError proves that sname does not exist and that no wildcard at its
// closest encloser could have answered: with NSEC, the records covering
// sname and the wildcard (RFC 4035 §3.1.3.2); with NSEC3, the closest
// encloser proof and the NSEC3 covering the wildcard at that encloser
// (RFC 5155 §7.2.2).
func (idx *denialIndex) nameError(sname, encloser string) []*zone.Node {
	if idx.kind == denialNSEC {
		return []*zone.Node{idx.cover(sname), idx.cover(wildcardOf(encloser))}
	}
	proof, ce := idx.closestEncloserProof(sname, encloser)
	return append(proof, idx.cover(wildcardOf(ce)))
}

// noData proves that name exists without the asked type (and without a
// CNAME): its own NSEC or NSEC3 record, whose type bitmap lacks them
// (RFC 4035 §3.1.3.1, RFC 5155 §7.2.3). An empty non-terminal has no NSEC:
// the one covering it shows that names exist below it (RFC 4035
// §3.1.3.2). A name with no NSEC3, which only happens for a delegation
// left out by opt-out, gets the closest provable encloser proof
// (RFC 5155 §7.2.4).
func (idx *denialIndex) noData(name string) []*zone.Node {
	if m := idx.match(name); m != nil {
		return []*zone.Node{m}
	}
	if idx.kind == denialNSEC {
		return []*zone.Node{idx.cover(name)}
	}
	proof, _ := idx.closestEncloserProof(name, dnsname.Parent(dnsname.Canonical(name)))
	return proof
}

// wildcardNoData proves that no closer name than the wildcard wild exists
// and that wild has no data of the asked type (RFC 4035 §3.1.3.4, RFC 5155
// §7.2.5).
func (idx *denialIndex) wildcardNoData(sname, encloser string, wild *zone.Node) []*zone.Node {
	if idx.kind == denialNSEC {
		return []*zone.Node{idx.cover(sname), idx.match(wild.Name)}
	}
	proof, _ := idx.closestEncloserProof(sname, encloser)
	return append(proof, idx.match(wild.Name))
}

// wildcardAnswer proves that the query name does not exist, so the
// wildcard rightly answered (RFC 4035 §3.1.3.3): the NSEC covering sname,
// or the NSEC3 covering the next closer name (RFC 5155 §7.2.6); the
// closest encloser is implied by the RRSIG's Labels field.
func (idx *denialIndex) wildcardAnswer(sname, encloser string) []*zone.Node {
	if idx.kind == denialNSEC {
		return []*zone.Node{idx.cover(sname)}
	}
	return []*zone.Node{idx.cover(nextCloser(sname, encloser))}
}
