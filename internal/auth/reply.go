package auth

import (
	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// rrset is records to put in one section, with the zone node they come
// from. When the client set DO, the add methods of reply put the covering
// RRSIGs from node.Sigs right after the records (RFC 4035 §3.1.1);
// synthesised records (the CNAME of a DNAME, CHAOS TXT) have no node and
// no signature. rrs may hold several types (an ANY answer over TCP).
type rrset struct {
	node *zone.Node
	rrs  []dns.RR
}

// glue is an address RRset for the additional section of a referral.
// Required glue is for name servers inside the delegated zone: without it
// the delegation cannot be followed, so a reply that cannot carry it is
// truncated (RFC 9471 §3.1). Other glue is dropped first when space runs
// out (RFC 9471 §3.2).
type glue struct {
	set      rrset
	required bool
}

// reply is the response being built for one query. The answer and
// authority sections are filled directly; glue, OPT and TSIG are kept apart
// and placed in the additional section by finish, which sizes the message.
type reply struct {
	msg  *dns.Msg
	glue []glue
	opt  *dns.OPT  // nil when the query had no (valid) OPT record
	tsig *dns.TSIG // nil unless the query was signed
	do   bool      // the client set DO: RRSIGs go with the records
}

// start begins the reply to req: same ID, opcode, RD and CD, and the
// question exactly as asked (case included) when there is one question.
// AA, RA, AD, TC and Z start clear.
func (r *reply) start(req *dns.Msg) {
	m := &dns.Msg{Compress: true}
	m.Id = req.Id
	m.Response = true
	m.Opcode = req.Opcode
	m.RecursionDesired = req.RecursionDesired
	m.CheckingDisabled = req.CheckingDisabled
	if len(req.Question) == 1 {
		m.Question = []dns.Question{req.Question[0]}
	}
	r.msg = m
}

// addAnswer appends set, and its signatures when DO is set, to the
// answer section.
func (r *reply) addAnswer(set rrset) {
	r.msg.Answer = r.appendSet(r.msg.Answer, set)
}

// addAuthority appends set, and its signatures when DO is set, to the
// authority section.
func (r *reply) addAuthority(set rrset) {
	r.msg.Ns = r.appendSet(r.msg.Ns, set)
}

// appendSet appends set.rrs to dst and, when the client set DO, the RRSIGs
// of set.node that cover each type in set.rrs. Each signature takes the
// owner and TTL of the records it covers as they go out: a wildcard's
// signature is shown under the query name (its Labels field tells the
// validator, RFC 4035 §5.3.4), and a negative answer's SOA and its RRSIG
// share the capped TTL (RFC 2308 §3). Zone records are copied only when
// they change.
func (r *reply) appendSet(dst []dns.RR, set rrset) []dns.RR {
	dst = append(dst, set.rrs...)
	if !r.do || set.node == nil || len(set.node.Sigs) == 0 {
		return dst
	}
	for i, rr := range set.rrs {
		h := rr.Header()
		if i > 0 && set.rrs[i-1].Header().Rrtype == h.Rrtype {
			continue // one RRset, one set of signatures
		}
		for _, sig := range set.node.Sigs[h.Rrtype] {
			if sig.Header().Name != h.Name || sig.Header().Ttl != h.Ttl {
				sig = dns.Copy(sig)
				sig.Header().Name, sig.Header().Ttl = h.Name, h.Ttl
			}
			dst = append(dst, sig)
		}
	}
	return dst
}

// addGlue records an address RRset for the additional section of a
// referral; required says whether the referral is useless without it.
func (r *reply) addGlue(set rrset, required bool) {
	r.glue = append(r.glue, glue{set: set, required: required})
}

// finish lays out the additional section and fits the message into limit
// octets: first with all glue, then dropping optional glue from the end,
// and when that is not enough, as an empty reply with TC=1 so that the
// client retries over TCP (RFC 1035 §4.2.1, RFC 2181 §9, RFC 9471).
func (r *reply) finish(limit int) *dns.Msg {
	optional := 0
	for _, g := range r.glue {
		if !g.required {
			optional++
		}
	}
	for keep := optional; keep >= 0; keep-- {
		r.assemble(keep)
		if fits(r.msg, limit) {
			return r.msg
		}
	}
	return r.truncate(limit)
}

// assemble sets the additional section: required glue, the first keep
// optional glue RRsets, then OPT, then TSIG, which must be last
// (RFC 8945 §5.3).
func (r *reply) assemble(keep int) {
	extra := r.msg.Extra[:0]
	for _, g := range r.glue {
		if !g.required {
			if keep == 0 {
				continue
			}
			keep--
		}
		extra = r.appendSet(extra, g.set)
	}
	if r.opt != nil {
		extra = append(extra, r.opt)
	}
	if r.tsig != nil {
		extra = append(extra, r.tsig)
	}
	r.msg.Extra = extra
}

// truncate empties the answer, authority and additional sections (OPT and
// TSIG stay) and sets TC. The header (rcode, AA) and question stay as
// they were. The TSIG record goes too if even that does not fit.
func (r *reply) truncate(limit int) *dns.Msg {
	r.msg.Truncated = true
	r.msg.Answer, r.msg.Ns, r.glue = nil, nil, nil
	r.assemble(0)
	if !fits(r.msg, limit) && r.tsig != nil {
		r.tsig = nil
		r.assemble(0)
	}
	return r.msg
}

// fits reports whether m packs into limit octets. The uncompressed length
// is an upper bound that needs no compression map, so small replies are
// settled without one.
func fits(m *dns.Msg, limit int) bool {
	m.Compress = false
	n := m.Len()
	m.Compress = true
	if n <= limit {
		return true
	}
	return m.Len() <= limit
}

// withOwner returns rrs with every owner name set to owner. Zone records
// are shared and never changed: only records whose owner differs are
// copied, so answers with the owner's case as stored cost nothing.
func withOwner(rrs []dns.RR, owner string) []dns.RR {
	for i, rr := range rrs {
		if rr.Header().Name == owner {
			continue
		}
		out := make([]dns.RR, len(rrs))
		copy(out, rrs[:i])
		for j := i; j < len(rrs); j++ {
			out[j] = renamed(rrs[j], owner)
		}
		return out
	}
	return rrs
}

// renamed returns rr with owner as its owner name, copying it if needed.
func renamed(rr dns.RR, owner string) dns.RR {
	if rr.Header().Name == owner {
		return rr
	}
	c := dns.Copy(rr)
	c.Header().Name = owner
	return c
}

// asAsked returns the ancestor of sname (or sname itself) that has as many
// labels as owner, in sname's case. Answers use the case the client asked
// in, as a server answering with compression pointers into the question
// does.
func asAsked(sname, owner string) string {
	drop := dns.CountLabel(sname) - dns.CountLabel(owner)
	off := 0
	for i := 0; i < drop; i++ {
		next, end := dns.NextLabel(sname, off)
		if end {
			return "."
		}
		off = next
	}
	return sname[off:]
}
