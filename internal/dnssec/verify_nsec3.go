package dnssec

import (
	"encoding/base32"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// checkNSEC3 checks the NSEC3 chain named by the apex NSEC3PARAM record
// (RFC 5155 §7.1, §7.2): every name of the zone, empty non-terminals
// included, has an NSEC3 record at its hash with the right type bitmap,
// except unsigned delegations (and what leads only to them) covered by
// an Opt-Out NSEC3; no NSEC3 record is left over; the next hashes close
// the chain; and no NSEC record remains.
func (v *verifier) checkNSEC3() {
	param, ok := v.checkNSEC3PARAM()
	if !ok {
		return
	}
	chain := v.collectNSEC3(param)
	if len(chain) == 0 {
		v.add(v.z.Origin, dns.TypeNSEC3, nil, "no NSEC3 records for the NSEC3PARAM parameters")
		return
	}
	hashes := make([]string, 0, len(chain))
	for h := range chain {
		hashes = append(hashes, h)
	}
	sort.Strings(hashes)
	for i, h := range hashes {
		rr := chain[h]
		if next := hashes[(i+1)%len(hashes)]; strings.ToUpper(rr.NextDomain) != next {
			v.add(rr.Hdr.Name, dns.TypeNSEC3, rr, "next hashed owner %s, want %s: the NSEC3 chain is broken", strings.ToLower(rr.NextDomain), strings.ToLower(next))
		}
	}
	strict := nsec3Names(v.z, v.kinds, false)
	optional := map[string]bool{}
	for _, name := range strict {
		optional[name] = true
	}
	for _, name := range nsec3Names(v.z, v.kinds, true) {
		delete(optional, name)
	}
	used := map[string]bool{}
	for _, name := range strict {
		if isNSEC3Owner(v.z.Node(name)) {
			continue
		}
		h := dns.HashName(name, param.Hash, param.Iterations, param.Salt)
		rr := chain[h]
		if rr == nil {
			cover := chain[coveringHash(hashes, h)]
			if !optional[name] || cover.Flags&nsec3OptOut == 0 {
				v.add(name, dns.TypeNSEC3, nil, "no NSEC3 record for the name (hash %s): the NSEC3 chain is incomplete", strings.ToLower(h))
			}
			continue
		}
		used[h] = true
		want := nsec3Types(v.z.Node(name), v.kinds[name])
		if have := typeList(setOf(rr.TypeBitMap)); !sameTypes(have, want) {
			v.add(rr.Hdr.Name, dns.TypeNSEC3, rr, "type bitmap %s for %s, want %s", typesString(rr.TypeBitMap), name, typesString(want))
		}
	}
	for _, h := range hashes {
		if !used[h] {
			v.add(chain[h].Hdr.Name, dns.TypeNSEC3, chain[h], "NSEC3 record matches no name of the zone")
		}
	}
	for _, name := range v.z.Names() {
		if rrs := v.z.Node(name).RRsets[dns.TypeNSEC]; len(rrs) > 0 && v.kinds[name] != kindOccluded {
			v.add(name, dns.TypeNSEC, rrs[0], "NSEC record in an NSEC3 zone")
		}
	}
}

// checkNSEC3PARAM checks the apex NSEC3PARAM record and returns it.
func (v *verifier) checkNSEC3PARAM() (*dns.NSEC3PARAM, bool) {
	rrs := v.z.Apex().RRsets[dns.TypeNSEC3PARAM]
	if len(rrs) == 0 {
		v.add(v.z.Origin, dns.TypeNSEC3PARAM, nil, "NSEC3 records but no NSEC3PARAM record at the apex")
		return nil, false
	}
	if len(rrs) > 1 {
		v.add(v.z.Origin, dns.TypeNSEC3PARAM, rrs[1], "%d NSEC3PARAM records: one chain at a time", len(rrs))
	}
	p := rrs[0].(*dns.NSEC3PARAM)
	switch {
	case p.Hash != nsec3SHA1:
		v.add(v.z.Origin, dns.TypeNSEC3PARAM, p, "unknown NSEC3 hash algorithm %d", p.Hash)
		return nil, false
	case p.Flags != 0:
		v.add(v.z.Origin, dns.TypeNSEC3PARAM, p, "flags %d, want 0 (RFC 5155 §4.1.2)", p.Flags)
	}
	if p.Iterations > MaxNSEC3Iterations {
		// Hashing every name that often is the work CVE-2023-50868
		// abuses: the chain is not checked.
		v.add(v.z.Origin, dns.TypeNSEC3PARAM, p, "%d NSEC3 iterations: validators treat more than %d as insecure (RFC 9276); the NSEC3 chain was not checked", p.Iterations, MaxNSEC3Iterations)
		return nil, false
	}
	return p, true
}

// collectNSEC3 returns the NSEC3 records of the chain with p's
// parameters by their hash (uppercase base32hex), reporting malformed
// ones and those of other parameters.
func (v *verifier) collectNSEC3(p *dns.NSEC3PARAM) map[string]*dns.NSEC3 {
	chain := map[string]*dns.NSEC3{}
	for _, name := range v.z.Names() {
		if v.kinds[name] == kindOccluded {
			continue
		}
		for _, rr := range v.z.Node(name).RRsets[dns.TypeNSEC3] {
			n := rr.(*dns.NSEC3)
			label, parent, _ := strings.Cut(name, ".")
			hash := strings.ToUpper(label)
			raw, err := base32.HexEncoding.WithPadding(base32.NoPadding).DecodeString(hash)
			switch {
			case dnsname.Canonical(parent) != v.z.Origin || err != nil || len(raw) != nsec3HashLength:
				v.add(name, dns.TypeNSEC3, n, "owner is not a SHA-1 hash directly below the apex")
			case n.Hash != p.Hash || n.Iterations != p.Iterations || !strings.EqualFold(n.Salt, p.Salt):
				v.add(name, dns.TypeNSEC3, n, "parameters (%d %d %s) differ from the NSEC3PARAM's (%d %d %s)",
					n.Hash, n.Iterations, saltString(n.Salt), p.Hash, p.Iterations, saltString(p.Salt))
			case n.Flags&^nsec3OptOut != 0:
				v.add(name, dns.TypeNSEC3, n, "unknown flags %d", n.Flags)
			case n.HashLength != nsec3HashLength || len(n.NextDomain) != 32:
				v.add(name, dns.TypeNSEC3, n, "next hashed owner is not a SHA-1 hash")
			case chain[hash] != nil:
				v.add(name, dns.TypeNSEC3, n, "more than one NSEC3 record at one hash")
			default:
				chain[hash] = n
			}
		}
	}
	return chain
}

// coveringHash returns the hash in the sorted hashes that precedes h in
// the chain's circular order: the owner of the NSEC3 that covers h.
func coveringHash(hashes []string, h string) string {
	i := sort.SearchStrings(hashes, h)
	if i == 0 {
		return hashes[len(hashes)-1]
	}
	return hashes[i-1]
}

func saltString(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ToLower(s)
}
