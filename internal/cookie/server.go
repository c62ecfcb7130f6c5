package cookie

import (
	"crypto/subtle"
	"encoding/binary"
	"net/netip"
	"time"
)

// secrets holds the server's keys: the current one issues and verifies
// cookies, the previous one (during a rollover) only verifies them.
type secrets struct {
	current     [16]byte
	previous    [16]byte
	hasPrevious bool
}

// verdict is what checking a Server Cookie found.
type verdict int

const (
	cookieInvalid verdict = iota // not ours, wrong client or IP, or outside the window
	cookieValid                  // valid and fresh enough to send back unchanged
	cookieRenew                  // valid, but old, made with the previous secret, or with Reserved set: reissue
)

// serverCookie computes a version 1 Server Cookie (RFC 9018 §4): Version,
// Reserved and Timestamp, then
//
//	Hash = SipHash-2-4(Client Cookie | Version | Reserved | Timestamp | Client-IP, Server Secret)
//
// with the 4-byte form of an IPv4 client address (also when it arrived
// mapped into IPv6) and the 16-byte form of an IPv6 one, so the hash input is
// exactly 20 or 32 bytes (§4.4). reserved is zero for cookies this server
// issues and what the client sent when verifying (§4.2).
func serverCookie(secret *[16]byte, client [clientCookieLen]byte, reserved [3]byte, ts uint32, ip netip.Addr) [serverCookieLen]byte {
	var in [clientCookieLen + 8 + 16]byte
	copy(in[:clientCookieLen], client[:])
	head := in[clientCookieLen : clientCookieLen+8]
	head[0] = serverCookieVersion
	copy(head[1:4], reserved[:])
	binary.BigEndian.PutUint32(head[4:8], ts)
	n := clientCookieLen + 8
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		n += copy(in[n:], a[:])
	} else {
		a := ip.As16()
		n += copy(in[n:], a[:])
	}
	var out [serverCookieLen]byte
	copy(out[:8], head)
	h := sipHash24Bytes(secret, in[:n])
	copy(out[8:], h[:])
	return out
}

// issue returns a fresh Server Cookie for client at ip, made with the current
// secret and stamped now.
func (s *secrets) issue(client [clientCookieLen]byte, ip netip.Addr, now time.Time) [serverCookieLen]byte {
	return serverCookie(&s.current, client, [3]byte{}, unixSeconds(now), ip)
}

// check verifies the Server Cookie of o for a query from ip at now: it must
// be a version 1 cookie of exactly 16 bytes whose hash matches under the
// current or the previous secret, stamped no more than maxCookieAge ago and no
// more than maxCookieFuture ahead, compared in serial number arithmetic
// (RFC 9018 §4.3, RFC 1982), so the 2106 wrap of the 32-bit timestamp is
// harmless.
func (s *secrets) check(o Option, ip netip.Addr, now time.Time) verdict {
	if len(o.Server) != serverCookieLen || o.Server[0] != serverCookieVersion {
		return cookieInvalid
	}
	var reserved [3]byte
	copy(reserved[:], o.Server[1:4])
	ts := binary.BigEndian.Uint32(o.Server[4:8])
	age := int64(int32(unixSeconds(now) - ts))
	if age > int64(maxCookieAge/time.Second) || -age > int64(maxCookieFuture/time.Second) {
		return cookieInvalid
	}
	want := serverCookie(&s.current, o.Client, reserved, ts, ip)
	if subtle.ConstantTimeCompare(want[:], o.Server) == 1 {
		if age > int64(reissueAge/time.Second) || reserved != [3]byte{} {
			return cookieRenew
		}
		return cookieValid
	}
	if s.hasPrevious {
		want = serverCookie(&s.previous, o.Client, reserved, ts, ip)
		if subtle.ConstantTimeCompare(want[:], o.Server) == 1 {
			return cookieRenew
		}
	}
	return cookieInvalid
}

// unixSeconds is now as the 32-bit Timestamp sub-field: seconds since the
// epoch, modulo 2^32 (RFC 9018 §4.3).
func unixSeconds(now time.Time) uint32 { return uint32(now.Unix()) }
