package resolver

import (
	"encoding/binary"
	"strings"

	"github.com/miekg/dns"
)

// Wire-format layout RawHandler reads and patches (RFC 1035 §4.1).
const (
	headerLen = 12   // the fixed header
	qrOpMask  = 0xF8 // QR and opcode, in header octet 2: zero for a QUERY
	rdBit     = 0x01 // RD, in header octet 2
	adBit     = 0x20 // AD, in header octet 3
	cdBit     = 0x10 // CD, in header octet 3
	optRRLen  = 11   // an OPT record with the root owner and no RDATA
	doBit     = 0x80 // DO, in the high octet of the OPT record's flags
	rrFixed   = 10   // type, class, TTL and RDLENGTH after a record's owner

	keyEDNS     = 1 << 0 // fastQuery.key flags: the query has an OPT record
	keyDO       = 1 << 1 // ... with DO set
	keyAD       = 1 << 2 // the query has AD set
	keyFlagsAll = keyEDNS | keyDO | keyAD

	// fastKeyMax is the longest key: type (2 octets), flags (1), and a
	// name of at most 255 octets without its root label.
	fastKeyMax = 3 + 254
)

// fastQuery is what RawHandler reads from a query: the cache key, where
// the question name ends, and the client's UDP size limit.
type fastQuery struct {
	// key is the query's type (big endian), flags (keyEDNS, keyDO, keyAD)
	// and question name in wire form, lowercased, without its root label.
	key    [fastKeyMax]byte
	keyLen int
	// nameEnd is the offset just past the question name, in the query and
	// in the reply alike.
	nameEnd int
	// limit is the largest reply ServeDNS sends the client whole: 512
	// without EDNS, else its UDP size within [512, udpSize].
	limit int
}

// parse reads query into p and reports whether it has the one shape
// RawHandler answers. It never panics, whatever the octets.
func (p *fastQuery) parse(query []byte) bool {
	if len(query) < headerLen || query[2]&qrOpMask != 0 || query[2]&rdBit == 0 || query[3]&cdBit != 0 ||
		binary.BigEndian.Uint16(query[4:]) != 1 || binary.BigEndian.Uint16(query[6:]) != 0 ||
		binary.BigEndian.Uint16(query[8:]) != 0 {
		return false
	}
	off, ok := p.parseName(query)
	if !ok || off+4 > len(query) {
		return false
	}
	qtype := binary.BigEndian.Uint16(query[off:])
	if !fastType(qtype) || binary.BigEndian.Uint16(query[off+2:]) != dns.ClassINET {
		return false
	}
	off += 4
	binary.BigEndian.PutUint16(p.key[0:], qtype)
	p.key[2] = 0
	if query[3]&adBit != 0 {
		p.key[2] |= keyAD
	}
	p.limit = dns.MinMsgSize
	switch binary.BigEndian.Uint16(query[10:]) {
	case 0:
	case 1:
		if off, ok = p.parseOPT(query, off); !ok {
			return false
		}
	default:
		return false
	}
	return off == len(query) // trailing octets: leave the query to ServeDNS
}

// parseName copies the question name, lowercased, into the key and
// returns the offset past it. Compression pointers (meaningless in the
// first name) and extended label types are refused, as are names longer
// than 255 octets.
func (p *fastQuery) parseName(query []byte) (int, bool) {
	off, n := headerLen, 3
	for {
		if off >= len(query) {
			return 0, false
		}
		l := int(query[off])
		if l == 0 {
			break
		}
		if l > 63 || off+1+l >= len(query) || n+1+l > fastKeyMax {
			return 0, false
		}
		p.key[n] = byte(l)
		for i, c := range query[off+1 : off+1+l] {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			p.key[n+1+i] = c
		}
		n += 1 + l
		off += 1 + l
	}
	p.keyLen = n
	p.nameEnd = off + 1
	return off + 1, true
}

// parseOPT reads the OPT record at off: the root as owner, extended RCODE
// 0, version 0, no flag but DO, no options. It sets the EDNS key flags and
// the client's size limit, as ServeDNS computes it, and returns the offset
// past the record.
func (p *fastQuery) parseOPT(query []byte, off int) (int, bool) {
	if off+optRRLen > len(query) {
		return 0, false
	}
	opt := query[off : off+optRRLen]
	// owner (1), type (2), class = UDP size (2), TTL = extended rcode (1),
	// version (1), flags (2); RDLENGTH (2).
	if opt[0] != 0 || binary.BigEndian.Uint16(opt[1:]) != dns.TypeOPT || opt[5] != 0 || opt[6] != 0 ||
		opt[7]&^doBit != 0 || opt[8] != 0 || binary.BigEndian.Uint16(opt[9:]) != 0 {
		return 0, false
	}
	p.key[2] |= keyEDNS
	if opt[7]&doBit != 0 {
		p.key[2] |= keyDO
	}
	p.limit = max(dns.MinMsgSize, min(int(binary.BigEndian.Uint16(opt[3:])), udpSize))
	return off + optRRLen, true
}

// fromMsg sets p from req, a query ServeDNS answered, and reports whether
// it has the shape parse takes (so that a reply filed under its key is
// one RawHandler may give): the same test on the unpacked message.
func (p *fastQuery) fromMsg(req *dns.Msg) bool {
	if req.Response || req.Opcode != dns.OpcodeQuery || !req.RecursionDesired || req.CheckingDisabled ||
		len(req.Question) != 1 || len(req.Answer) != 0 || len(req.Ns) != 0 || len(req.Extra) > 1 {
		return false
	}
	q := req.Question[0]
	if q.Qclass != dns.ClassINET || !fastType(q.Qtype) {
		return false
	}
	p.key[2] = 0
	if req.AuthenticatedData {
		p.key[2] |= keyAD
	}
	if len(req.Extra) == 1 {
		opt, ok := req.Extra[0].(*dns.OPT)
		// TTL: extended RCODE, version, flags; DO is flag bit 15.
		if !ok || opt.Hdr.Name != "." || opt.Hdr.Ttl&^(1<<15) != 0 || len(opt.Option) != 0 {
			return false
		}
		p.key[2] |= keyEDNS
		if opt.Do() {
			p.key[2] |= keyDO
		}
	}
	n, err := dns.PackDomainName(strings.ToLower(q.Name), p.key[3:], 0, nil, false)
	if err != nil || n < 1 {
		return false
	}
	binary.BigEndian.PutUint16(p.key[0:], q.Qtype)
	p.keyLen = 3 + n - 1
	p.nameEnd = headerLen + n
	return true
}

// fastType reports whether queries of type t may be answered from the
// wire cache: not the meta types (RFC 6895 §3.1: OPT, transfers, ANY and
// the others ServeDNS refuses or answers specially), not RRSIG, not type
// 0.
func fastType(t uint16) bool {
	switch {
	case t == 0, t == dns.TypeOPT, t == dns.TypeRRSIG:
		return false
	case t >= 128 && t <= 255: // QTYPE-only and meta types: ANY, AXFR, IXFR, MAILA, ...
		return false
	}
	return true
}
