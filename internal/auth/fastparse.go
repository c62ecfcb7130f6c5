package auth

import (
	"encoding/binary"
	"strings"

	"github.com/miekg/dns"
)

// Wire-format layout the fast path reads and patches (RFC 1035 §4.1).
const (
	headerLen = 12   // the fixed header
	qrOpMask  = 0xF8 // QR and opcode, in header octet 2: zero for a QUERY
	rdBit     = 0x01 // RD, in header octet 2
	cdBit     = 0x10 // CD, in header octet 3
	optRRLen  = 11   // an OPT record with the root owner and no RDATA
	doBit     = 0x80 // DO, in the high octet of the OPT record's flags

	keyEDNS = 1 << 0 // fastQuery.key flags: the query has an OPT record
	keyDO   = 1 << 1 // fastQuery.key flags: ... with DO set

	// fastKeyMax is the longest key: type (2 octets), flags (1), and a
	// name of at most maxNameOctets without its root label.
	fastKeyMax = 3 + maxNameOctets
)

// fastQuery is what the fast path reads from a raw query: the cache key,
// where the question name ends, and what decides whether a precompiled
// reply applies.
type fastQuery struct {
	// key is the query's type (big endian), flags (keyEDNS, keyDO) and
	// question name in wire form, lowercased, without its root label.
	key    [fastKeyMax]byte
	keyLen int
	// nameEnd is the offset just past the question name, in the query and
	// in the reply alike.
	nameEnd int
	upper   bool // the question name has an uppercase ASCII letter
	tcp     bool
	limit   int // the largest reply the client takes: Answer's sizeLimit
}

// parse reads query into p and reports whether it has the one shape the
// fast path answers (see FastPath.AnswerRaw). It never panics, whatever
// the octets.
func (p *fastQuery) parse(query []byte, network string, maxUDP int) bool {
	if len(query) < headerLen || query[2]&qrOpMask != 0 ||
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
	p.tcp = strings.HasPrefix(network, "tcp")
	p.limit = minUDPSize
	switch binary.BigEndian.Uint16(query[10:]) {
	case 0:
	case 1:
		if off, ok = p.parseOPT(query, off, maxUDP); !ok {
			return false
		}
	default:
		return false
	}
	if p.tcp {
		p.limit = maxTCPSize
	}
	return off == len(query) // trailing octets: leave the query to the engine
}

// parseName copies the question name, lowercased, into the key and
// returns the offset past it. Compression pointers (meaningless in the
// first name) and extended label types are refused, as are names longer
// than 255 octets.
func (p *fastQuery) parseName(query []byte) (int, bool) {
	off, n := headerLen, 3
	p.upper = false
	for {
		if off >= len(query) {
			return 0, false
		}
		l := int(query[off])
		if l == 0 {
			break
		}
		if l > 63 || off+1+l >= len(query) || n+1+l > fastKeyMax-1 {
			return 0, false
		}
		p.key[n] = byte(l)
		for i, c := range query[off+1 : off+1+l] {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
				p.upper = true
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

// parseOPT reads the OPT record at off: the root as owner, version 0, no
// options. It sets the EDNS key flags and the client's size limit
// (RFC 6891 §6.2.5), and returns the offset past the record.
func (p *fastQuery) parseOPT(query []byte, off, maxUDP int) (int, bool) {
	if off+optRRLen > len(query) {
		return 0, false
	}
	opt := query[off : off+optRRLen]
	// owner (1), type (2), class = UDP size (2), TTL = extended rcode (1),
	// version (1), flags (2); RDLENGTH (2).
	if opt[0] != 0 || binary.BigEndian.Uint16(opt[1:]) != dns.TypeOPT || opt[6] != 0 ||
		binary.BigEndian.Uint16(opt[9:]) != 0 {
		return 0, false
	}
	p.key[2] = keyEDNS
	if opt[7]&doBit != 0 {
		p.key[2] |= keyDO
	}
	size := max(int(binary.BigEndian.Uint16(opt[3:])), minUDPSize)
	p.limit = min(size, maxUDP)
	return off + optRRLen, true
}

// fastType reports whether queries of type t may be answered from the
// cache: not the meta types (RFC 6895 §3.1: OPT, zone transfers, ANY and
// the others the engine refuses or answers specially), not RRSIG, not
// type 0.
func fastType(t uint16) bool {
	switch {
	case t == 0, t == dns.TypeOPT, t == dns.TypeRRSIG:
		return false
	case t >= 128 && t <= 255: // QTYPE-only and meta types: ANY, AXFR, IXFR, TSIG, ...
		return false
	}
	return true
}
