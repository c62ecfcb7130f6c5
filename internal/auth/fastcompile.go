package auth

import (
	"bytes"
	"reflect"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/ratelimit"
	"github.com/rensa-dns/rensa/internal/wire"
	"github.com/rensa-dns/rensa/internal/zone"
)

// compile builds the cache entry for the query p was parsed from. It
// returns false only when the zones changed meanwhile, and an entry without
// a reply (which suits no query) when the reply must always come from the
// engine: the query does not unpack, or its reply does not pack or is
// truncated even over TCP. Caching that verdict keeps a repeated query of
// that kind from being compiled again and again.
//
// The reply is Answer's over TCP, so that it is whole: a UDP client whose
// limit it fits (fastEntry.fit) gets the very same message from Answer,
// since the engine tries the whole reply first (reply.finish). It is
// built for the name in lowercase, with ID 0 and RD and CD clear, which
// reply then patches.
func (f *FastPath) compile(set *zone.Set, query []byte, p *fastQuery) (fastEntry, bool) {
	m, packed := f.answerWire(normalized(query, p, false), p)
	if f.s.zones.Load() != set {
		return fastEntry{}, false
	}
	if m == nil {
		return fastEntry{}, true
	}
	rrl := ratelimit.Classify(m)
	e := fastEntry{wire: packed, fit: fitSize(m), rrl: &rrl}
	e.caseFree = f.caseFree(query, p, m, packed)
	if f.s.zones.Load() != set {
		return fastEntry{}, false
	}
	return e, true
}

// normalized returns a copy of query with ID 0, header flags clear and the
// question name in lowercase, or uppercase when upper is set.
func normalized(query []byte, p *fastQuery, upper bool) []byte {
	q := bytes.Clone(query)
	q[0], q[1], q[2], q[3] = 0, 0, 0, 0
	// Label lengths are at most 63: no length octet is a letter, so
	// the whole name can be mapped at once.
	name := q[wire.HeaderLen:p.NameEnd]
	for i, c := range name {
		switch {
		case upper && 'a' <= c && c <= 'z':
			name[i] = c - ('a' - 'A')
		case !upper && 'A' <= c && c <= 'Z':
			name[i] = c + ('a' - 'A')
		}
	}
	return q
}

// answerWire runs the engine over TCP for query, which has p's shape, and
// returns the reply and its wire form, or nil when it must not be cached.
func (f *FastPath) answerWire(query []byte, p *fastQuery) (*dns.Msg, []byte) {
	req := new(dns.Msg)
	if req.Unpack(query) != nil {
		return nil, nil
	}
	m := f.s.Answer(req, "tcp")
	if m == nil || m.Truncated {
		return nil, nil
	}
	packed, err := m.Pack()
	if err != nil {
		return nil, nil
	}
	// The question must sit where reply patches it: right after the
	// header, as in the query.
	qEnd := p.NameEnd + 4
	if len(packed) < qEnd || !bytes.Equal(packed[wire.HeaderLen:qEnd], query[wire.HeaderLen:qEnd]) {
		return nil, nil
	}
	return m, packed
}

// fitSize returns the smallest size limit m passes the engine's fits test
// for: its uncompressed length if that is less, else its compressed
// length.
func fitSize(m *dns.Msg) int {
	m.Compress = false
	n := m.Len()
	m.Compress = true
	return min(n, m.Len())
}

// caseFree reports whether the reply m, packed for the lowercase
// name, suits every case of the query's name once the question name is
// copied in. The engine writes names derived from the query name in the
// client's case, and compression (case-sensitive in miekg/dns) points at
// earlier names with exactly the same octets, so in general the reply's
// octets depend on the case. They do not when:
//
//  1. every name in m, apart from the root, is either the query name
//     itself or shares no label-aligned suffix with it, i.e. ends in
//     another top-level label (so nothing but the query name itself can
//     ever compress against the question, in any case); and
//  2. the reply for the name in uppercase is the same octets, question
//     name aside (so each copy of the query name is a pointer to the
//     question, and no other name carries the client's case).
//
// A plain positive answer (the owner is the query name) passes; answers
// with an SOA, referrals, CNAME chains and DNAME synthesis in the same
// top-level domain do not, and are served from the cache to lowercase
// queries only.
func (f *FastPath) caseFree(query []byte, p *fastQuery, m *dns.Msg, packed []byte) bool {
	if !p.upperable(query) {
		return true // no letters: every case is the same name
	}
	if !namesApart(m) {
		return false
	}
	_, upper := f.answerWire(normalized(query, p, true), p)
	return len(upper) == len(packed) &&
		bytes.Equal(upper[:wire.HeaderLen], packed[:wire.HeaderLen]) &&
		bytes.Equal(upper[p.NameEnd:], packed[p.NameEnd:])
}

// upperable reports whether the question name of query has an ASCII
// letter.
func (p *fastQuery) upperable(query []byte) bool {
	for _, c := range query[wire.HeaderLen:p.NameEnd] {
		if 'a' <= c|0x20 && c|0x20 <= 'z' {
			return true
		}
	}
	return false
}

// namesApart checks condition 1 of caseFree for the reply m.
func namesApart(m *dns.Msg) bool {
	qname := m.Question[0].Name
	if strings.Contains(qname, `\`) {
		return false
	}
	top := topLabel(qname)
	for _, section := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range section {
			for _, name := range rrNames(reflect.ValueOf(rr), nil) {
				switch {
				case name == "." || name == "" || name == qname:
				case strings.Contains(name, `\`) || strings.EqualFold(topLabel(name), top):
					return false
				}
			}
		}
	}
	return true
}

// topLabel returns the last label of name, with its dot.
func topLabel(name string) string {
	i, _ := dns.PrevLabel(name, 1)
	return name[i:]
}

// rrNames appends to names every domain name held by v, a resource record
// or a part of one: the owner, and every field that miekg/dns packs as a
// name (and so may compress, or compress against). Embedded records, such
// as SVCB in HTTPS, are searched too.
func rrNames(v reflect.Value, names []string) []string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return names
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return names
	}
	t := v.Type()
	for i := range t.NumField() {
		fv := v.Field(i)
		switch t.Field(i).Tag.Get("dns") {
		case "domain-name", "cdomain-name", "ipsechost", "amtrelayhost":
			switch fv.Kind() {
			case reflect.String:
				names = append(names, fv.String())
			case reflect.Slice:
				for j := range fv.Len() {
					names = append(names, fv.Index(j).String())
				}
			}
			continue
		}
		if fv.Kind() == reflect.Struct {
			names = rrNames(fv, names)
		}
	}
	return names
}
