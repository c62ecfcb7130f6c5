package resolver

import (
	"bytes"
	"encoding/binary"
	"math"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/wire"
)

// rrFixed is the length of a record's type, class, TTL and RDLENGTH,
// after its owner (RFC 1035 §4.1.3).
const rrFixed = 10

// compileWire returns the wire cache entry for packed, a reply ServeDNS
// packed uncompressed for a question whose name ends at nameEnd, read from
// the RRset cache at stored; nil when the reply is not one RawHandler can
// reproduce: it has a compression pointer, an answer owner that equals the
// question name but for case without having been given the client's
// spelling, a record with TTL 0, or octets that do not parse.
func compileWire(packed []byte, nameEnd int, stored time.Time) *fastEntry {
	if len(packed) < nameEnd+4 || nameEnd <= wire.HeaderLen || packed[nameEnd-1] != 0 ||
		binary.BigEndian.Uint16(packed[4:]) != 1 || len(packed) > math.MaxUint16 {
		return nil
	}
	qname := packed[wire.HeaderLen:nameEnd]
	e := &fastEntry{wire: packed, minTTL: math.MaxUint32, stored: stored}
	an := int(binary.BigEndian.Uint16(packed[6:]))
	total := an + int(binary.BigEndian.Uint16(packed[8:])) + int(binary.BigEndian.Uint16(packed[10:]))
	off := nameEnd + 4
	for i := range total {
		end, ok := nameEndAt(packed, off)
		if !ok || end+rrFixed > len(packed) {
			return nil
		}
		if i < an && equalFoldASCII(packed[off:end], qname) {
			if !bytes.Equal(packed[off:end], qname) {
				return nil
			}
			e.names = append(e.names, uint16(off))
		}
		rrtype := binary.BigEndian.Uint16(packed[end:])
		if rrtype != dns.TypeOPT {
			ttl := binary.BigEndian.Uint32(packed[end+4:])
			if ttl == 0 {
				return nil
			}
			e.ttlOffs = append(e.ttlOffs, uint16(end+4))
			e.ttls = append(e.ttls, ttl)
			e.minTTL = min(e.minTTL, ttl)
		}
		off = end + rrFixed + int(binary.BigEndian.Uint16(packed[end+8:]))
		if off > len(packed) {
			return nil
		}
	}
	if off != len(packed) {
		return nil
	}
	return e
}

// nameEndAt returns the offset past the uncompressed name at off in wire;
// false for a compression pointer, an extended label type or a name that
// runs past the end.
func nameEndAt(wire []byte, off int) (int, bool) {
	for n := 0; off < len(wire); {
		l := int(wire[off])
		switch {
		case l == 0:
			return off + 1, true
		case l > 63:
			return 0, false
		}
		if n += 1 + l; n > 255 {
			return 0, false
		}
		off += 1 + l
	}
	return 0, false
}

// equalFoldASCII reports whether the wire names a and b are the same name
// ignoring ASCII case. Label lengths are at most 63, never a letter, so
// the octets can be folded all at once.
func equalFoldASCII(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
