package cookie

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/miekg/dns"
)

// ErrMalformed is returned for a COOKIE option of the wrong length (RFC 7873
// §5.2.2: the Client Cookie is 8 bytes, a Server Cookie 8 to 32) or a message
// with more than one COOKIE option. A server answers such a query FORMERR; a
// client drops such a reply.
var ErrMalformed = errors.New("cookie: malformed COOKIE option")

// Option is a parsed COOKIE option (EDNS option code 10, RFC 7873 §4).
type Option struct {
	// Client is the Client Cookie, chosen by the client per server.
	Client [clientCookieLen]byte
	// Server is the Server Cookie, 8 to 32 bytes, or nil when the client has
	// none yet for this server.
	Server []byte
}

// ParseOption parses the data of a COOKIE option: 8 bytes, or 16 to 40. It
// returns an error wrapping ErrMalformed for any other length. Server aliases
// data.
func ParseOption(data []byte) (Option, error) {
	var o Option
	n := len(data)
	if n != clientCookieLen && (n < clientCookieLen+minServerCookieLen || n > clientCookieLen+maxServerCookieLen) {
		return o, fmt.Errorf("%w: %d bytes, want 8 or 16 to 40", ErrMalformed, n)
	}
	copy(o.Client[:], data)
	if n > clientCookieLen {
		o.Server = data[clientCookieLen:]
	}
	return o, nil
}

// Bytes returns the option data: Client followed by Server.
func (o Option) Bytes() []byte {
	b := make([]byte, 0, clientCookieLen+len(o.Server))
	b = append(b, o.Client[:]...)
	return append(b, o.Server...)
}

// EDNS0 returns o as the miekg/dns option to put in an OPT record.
func (o Option) EDNS0() *dns.EDNS0_COOKIE {
	return &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(o.Bytes())}
}

// FromMsg finds and parses the COOKIE option of m. found is false when m has
// no OPT record or no COOKIE option in it. The error wraps ErrMalformed when
// the option has a wrong length, is not hex (only possible for a message built
// in memory), or appears more than once.
func FromMsg(m *dns.Msg) (o Option, found bool, err error) {
	data, found, err := cookieData(m)
	if !found || err != nil {
		return Option{}, found, err
	}
	raw, err := hex.DecodeString(data)
	if err != nil {
		return Option{}, true, fmt.Errorf("%w: not hex: %v", ErrMalformed, err)
	}
	o, err = ParseOption(raw)
	return o, true, err
}

// cookieData returns the data of m's COOKIE option as miekg/dns holds it,
// in hex. found is false when m has no OPT record or no COOKIE option; the
// error wraps ErrMalformed when there is more than one.
func cookieData(m *dns.Msg) (data string, found bool, err error) {
	opt := m.IsEdns0()
	if opt == nil {
		return "", false, nil
	}
	for _, e := range opt.Option {
		c, ok := e.(*dns.EDNS0_COOKIE)
		if !ok {
			continue
		}
		if found {
			return "", true, fmt.Errorf("%w: more than one COOKIE option", ErrMalformed)
		}
		found, data = true, c.Cookie
	}
	return data, found, nil
}

// parseHex is ParseOption of the hex option data, decoded into buf (the
// returned Server aliases it) rather than into a new slice: the client
// jar checks every reply's cookie this way without allocating. Its errors
// are FromMsg's.
func parseHex(buf *[clientCookieLen + maxServerCookieLen]byte, data string) (Option, error) {
	if len(data)%2 != 0 {
		return Option{}, fmt.Errorf("%w: not hex: odd length %d", ErrMalformed, len(data))
	}
	if n := len(data) / 2; n > len(buf) {
		return Option{}, fmt.Errorf("%w: %d bytes, want 8 or 16 to 40", ErrMalformed, n)
	}
	for i := 0; i < len(data)/2; i++ {
		hi, okHi := fromHexChar(data[2*i])
		lo, okLo := fromHexChar(data[2*i+1])
		if !okHi || !okLo {
			return Option{}, fmt.Errorf("%w: not hex: %q", ErrMalformed, data)
		}
		buf[i] = hi<<4 | lo
	}
	return ParseOption(buf[:len(data)/2])
}

// fromHexChar returns the value of the hex digit c, either case, as
// encoding/hex reads it.
func fromHexChar(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// withCookie returns a shallow copy of m whose OPT record carries o as its
// only COOKIE option; m and its records are not changed (STYLE.md rule 2). A
// message without an OPT record gets one advertising maxUDPPayload.
func withCookie(m *dns.Msg, o Option) *dns.Msg {
	out := *m
	out.Extra = make([]dns.RR, 0, len(m.Extra)+1)
	var opt *dns.OPT
	for _, rr := range m.Extra {
		if old, ok := rr.(*dns.OPT); ok && opt == nil {
			opt = &dns.OPT{Hdr: old.Hdr}
			for _, e := range old.Option {
				if e.Option() != dns.EDNS0COOKIE {
					opt.Option = append(opt.Option, e)
				}
			}
			rr = opt
		}
		out.Extra = append(out.Extra, rr)
	}
	if opt == nil {
		opt = newOPT()
		out.Extra = append(out.Extra, opt)
	}
	opt.Option = append(opt.Option, o.EDNS0())
	return &out
}

// newOPT returns an empty OPT record, version 0, advertising maxUDPPayload.
func newOPT() *dns.OPT {
	return &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: maxUDPPayload}}
}
