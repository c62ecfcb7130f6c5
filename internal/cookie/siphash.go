package cookie

import (
	"encoding/binary"
	"math/bits"
)

// sipHash24 returns SipHash-2-4 of msg under key (Aumasson and Bernstein,
// "SipHash: a fast short-input PRF", 2012): two compression rounds per
// 8-byte word, four finalisation rounds. The key is read as two
// little-endian 64-bit words; callers that put the result on the wire
// serialise it little-endian too, as the reference implementation and
// RFC 9018 Appendix A do.
func sipHash24(key *[16]byte, msg []byte) uint64 {
	k0 := binary.LittleEndian.Uint64(key[0:8])
	k1 := binary.LittleEndian.Uint64(key[8:16])
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573

	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}

	n := len(msg)
	for len(msg) >= 8 {
		m := binary.LittleEndian.Uint64(msg)
		v3 ^= m
		round()
		round()
		v0 ^= m
		msg = msg[8:]
	}
	// The last word holds the remaining bytes and, in its top byte, the
	// message length mod 256.
	last := uint64(n) << 56
	for i, b := range msg {
		last |= uint64(b) << (8 * i)
	}
	v3 ^= last
	round()
	round()
	v0 ^= last

	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}

// sipHash24Bytes is sipHash24 serialised little-endian, the byte order of
// the reference implementation and of the Hash sub-field of RFC 9018 §4.4.
func sipHash24Bytes(key *[16]byte, msg []byte) [8]byte {
	var out [8]byte
	binary.LittleEndian.PutUint64(out[:], sipHash24(key, msg))
	return out
}
