package wire

import (
	"encoding/binary"
	"strings"

	"github.com/miekg/dns"
)

// Wire-format layout a fast path reads and patches (RFC 1035 §4.1.1,
// RFC 4035 §3.2, RFC 6891 §6.1.3).
const (
	// HeaderLen is the length of the fixed header; the question name
	// starts right after it, in a query and in its reply alike.
	HeaderLen = 12
	// RD is the Recursion Desired bit, in header octet 2.
	RD = 0x01
	// AD is the Authentic Data bit, in header octet 3.
	AD = 0x20
	// CD is the Checking Disabled bit, in header octet 3.
	CD = 0x10
	// OPTDO is the DO bit in the TTL field of an OPT record
	// (Query.OPTTTL).
	OPTDO = 1 << 15

	qrOpMask = 0xF8 // QR and opcode, in header octet 2: zero for a QUERY
	optRRLen = 11   // an OPT record with the root owner and no RDATA
)

// Flags Parse sets in Query.Key[2]. The bits above KeyDO are the caller's,
// for what else it keys replies on (the resolver keys on AD).
const (
	// KeyEDNS is set when the query has an OPT record.
	KeyEDNS = 1 << 0
	// KeyDO is set when the query's OPT record has the DO bit.
	KeyDO = 1 << 1
)

// KeyMax is the length of the longest key: type (2 octets), flags (1) and
// a name of at most 254 octets, its root label left out.
const KeyMax = 3 + maxNameOctets - 1

// Query is what a fast path reads from a query in wire form: the key its
// reply is stored under, where the question name ends, and the EDNS
// values the caller decides on. The zero Query is ready for Parse or
// SetKey, and a Query may be reused.
type Query struct {
	// Key is the query's type (big endian), flags (KeyEDNS, KeyDO and the
	// caller's own) and question name in wire form, lowercased, without
	// its root label. Only Key[:KeyLen] is the key.
	Key    [KeyMax]byte
	KeyLen int
	// NameEnd is the offset just past the question name, in the query
	// and in a reply to it alike.
	NameEnd int
	// Upper is set when the question name has an uppercase ASCII letter.
	Upper bool
	// UDPSize is the UDP payload size of the OPT record; 0 without one.
	UDPSize int
	// OPTTTL is the TTL field of the OPT record: extended RCODE (8 bits),
	// version (8, always 0 after Parse) and flags (16, OPTDO among them);
	// 0 without one.
	OPTTTL uint32
}

// Parse reads query into q and reports whether it has the one shape a fast
// path answers: QR=0, opcode QUERY, one question of class IN and a type
// CacheableType allows, no answer or authority records, and in the
// additional section at most an OPT record owned by the root, of version
// 0, with no options. The question name must not be compressed, and
// nothing may follow the records. Parse never panics, whatever the octets;
// what it leaves in q after it reports false is unspecified.
func (q *Query) Parse(query []byte) bool {
	if len(query) < HeaderLen || query[2]&qrOpMask != 0 ||
		binary.BigEndian.Uint16(query[4:]) != 1 || binary.BigEndian.Uint16(query[6:]) != 0 ||
		binary.BigEndian.Uint16(query[8:]) != 0 {
		return false
	}
	off, ok := q.parseName(query)
	if !ok || off+4 > len(query) {
		return false
	}
	qtype := binary.BigEndian.Uint16(query[off:])
	if !CacheableType(qtype) || binary.BigEndian.Uint16(query[off+2:]) != dns.ClassINET {
		return false
	}
	off += 4
	binary.BigEndian.PutUint16(q.Key[0:], qtype)
	q.Key[2] = 0
	q.UDPSize, q.OPTTTL = 0, 0
	switch binary.BigEndian.Uint16(query[10:]) {
	case 0:
	case 1:
		if off, ok = q.parseOPT(query, off); !ok {
			return false
		}
	default:
		return false
	}
	return off == len(query) // trailing octets: leave the query to the ordinary path
}

// parseName copies the question name, lowercased, into the key and
// returns the offset past it. Compression pointers (meaningless in the
// first name) and extended label types are refused, as are names longer
// than 255 octets.
func (q *Query) parseName(query []byte) (int, bool) {
	off, n := HeaderLen, 3
	q.Upper = false
	for {
		if off >= len(query) {
			return 0, false
		}
		l := int(query[off])
		if l == 0 {
			break
		}
		if l > 63 || off+1+l >= len(query) || n+1+l > KeyMax {
			return 0, false
		}
		q.Key[n] = byte(l)
		for i, c := range query[off+1 : off+1+l] {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
				q.Upper = true
			}
			q.Key[n+1+i] = c
		}
		n += 1 + l
		off += 1 + l
	}
	q.KeyLen = n
	q.NameEnd = off + 1
	return off + 1, true
}

// parseOPT reads the OPT record at off: the root as owner, version 0, no
// RDATA. It sets the EDNS key flags, UDPSize and OPTTTL, and returns the
// offset past the record.
func (q *Query) parseOPT(query []byte, off int) (int, bool) {
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
	q.UDPSize = int(binary.BigEndian.Uint16(opt[3:]))
	q.OPTTTL = binary.BigEndian.Uint32(opt[5:])
	q.Key[2] = KeyEDNS
	if q.OPTTTL&OPTDO != 0 {
		q.Key[2] |= KeyDO
	}
	return off + optRRLen, true
}

// UDPLimit returns the largest UDP reply the client of the parsed query
// takes, for a server that sends at most maxUDP (at least 512): 512
// without EDNS (RFC 1035 §4.2.1), else the client's UDP size within
// [512, maxUDP] (RFC 6891 §6.2.5).
func (q *Query) UDPLimit(maxUDP int) int {
	if q.Key[2]&KeyEDNS == 0 {
		return dns.MinMsgSize
	}
	return min(max(q.UDPSize, dns.MinMsgSize), maxUDP)
}

// SetKey sets q's key, KeyLen and NameEnd as Parse sets them for a query
// for name (fully qualified, in presentation form) and qtype, with the key
// flags flags. It reports false when name does not pack.
func (q *Query) SetKey(name string, qtype uint16, flags byte) bool {
	n, err := dns.PackDomainName(strings.ToLower(name), q.Key[3:], 0, nil, false)
	if err != nil || n < 1 {
		return false
	}
	binary.BigEndian.PutUint16(q.Key[0:], qtype)
	q.Key[2] = flags
	q.KeyLen = 3 + n - 1
	q.NameEnd = HeaderLen + n
	return true
}

// CacheableType reports whether queries of type t may be answered from a
// fast path's cache: not the meta types (RFC 6895 §3.1: OPT, zone
// transfers, ANY and the others a server refuses or answers specially),
// not RRSIG, not type 0.
func CacheableType(t uint16) bool {
	switch {
	case t == 0, t == dns.TypeOPT, t == dns.TypeRRSIG:
		return false
	case t >= 128 && t <= 255: // QTYPE-only and meta types: ANY, AXFR, IXFR, TSIG, ...
		return false
	}
	return true
}
