package ratelimit

import (
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// CookieValidator is implemented by a ResponseWriter that knows whether the
// query carried a valid DNS server cookie; internal/cookie's middleware
// hands such a writer to the handlers it wraps. A client with a valid
// cookie has proved it receives replies at its address, so it cannot be a
// spoofed victim: its responses are exempt.
type CookieValidator interface {
	ValidCookie() bool
}

// New returns the Response Rate Limiting middleware for cfg, and the
// Limiter behind it for its Stats, or an error wrapping ErrConfig.
//
// The middleware lets the handler build its response, then decides: UDP
// responses within the rate are sent, others dropped, and every Slip-th
// dropped one replaced by a TC=1 reply. TCP responses, and responses to
// queries whose ResponseWriter (or one it wraps, via
// Unwrap() dns.ResponseWriter) reports a valid cookie, are exempt. The
// handler's message is never changed; a slip reply is a new message.
func New(cfg Config) (func(dns.Handler) dns.Handler, *Limiter, error) {
	l, err := newLimiter(cfg)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Disabled {
		return func(next dns.Handler) dns.Handler { return next }, l, nil
	}
	return func(next dns.Handler) dns.Handler {
		return dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			if !isUDP(w) || validCookie(w) {
				next.ServeDNS(&exemptWriter{ResponseWriter: w, l: l}, r)
				return
			}
			next.ServeDNS(&writer{ResponseWriter: w, l: l, client: remoteIP(w)}, r)
		})
	}, l, nil
}

// writer is the ResponseWriter a handler behind the middleware gets for a
// UDP query: each response goes through the limiter.
type writer struct {
	dns.ResponseWriter
	l      *Limiter
	client netip.Addr
}

// WriteMsg sends m, a TC=1 reply in its place, or nothing, as the limiter
// decides. A dropped response is not an error: the handler did its job.
func (w *writer) WriteMsg(m *dns.Msg) error {
	switch w.l.Decide(w.client, m) {
	case Drop:
		return nil
	case Slip:
		return w.ResponseWriter.WriteMsg(slip(m))
	}
	return w.ResponseWriter.WriteMsg(m)
}

// Write rate-limits b, a wire-format response. Bytes that do not unpack
// are accounted as an Error response.
func (w *writer) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		if w.l.decide(w.client, Key{Class: Error}) != Answer {
			return len(b), nil
		}
		return w.ResponseWriter.Write(b)
	}
	if err := w.WriteMsg(m); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Network reports "udp": only UDP queries get this writer.
func (w *writer) Network() string { return "udp" }

// Unwrap returns the ResponseWriter this one wraps.
func (w *writer) Unwrap() dns.ResponseWriter { return w.ResponseWriter }

// exemptWriter passes every response and counts it as exempt.
type exemptWriter struct {
	dns.ResponseWriter
	l *Limiter
}

// WriteMsg sends m.
func (w *exemptWriter) WriteMsg(m *dns.Msg) error {
	w.l.exempt.Add(1)
	return w.ResponseWriter.WriteMsg(m)
}

// Write sends b.
func (w *exemptWriter) Write(b []byte) (int, error) {
	w.l.exempt.Add(1)
	return w.ResponseWriter.Write(b)
}

// Network reports the wrapped writer's transport.
func (w *exemptWriter) Network() string {
	if isUDP(w.ResponseWriter) {
		return "udp"
	}
	return "tcp"
}

// ValidCookie passes on the wrapped writer's cookie verdict.
func (w *exemptWriter) ValidCookie() bool { return validCookie(w.ResponseWriter) }

// Unwrap returns the ResponseWriter this one wraps.
func (w *exemptWriter) Unwrap() dns.ResponseWriter { return w.ResponseWriter }

// slip returns the TC=1 reply sent in place of m: m's header with TC set,
// its question, and an OPT record keeping m's payload size and DO bit but no
// options. It is about the size of the query, so it amplifies nothing, and
// tells a real client to retry over TCP.
func slip(m *dns.Msg) *dns.Msg {
	s := &dns.Msg{MsgHdr: m.MsgHdr, Question: m.Question}
	s.Truncated = true
	if opt := m.IsEdns0(); opt != nil {
		s.Extra = []dns.RR{&dns.OPT{Hdr: opt.Hdr}}
	}
	return s
}

// validCookie reports whether w, or a writer it wraps, says the query had a
// valid cookie.
func validCookie(w dns.ResponseWriter) bool {
	for range maxUnwrap {
		if v, ok := w.(CookieValidator); ok {
			return v.ValidCookie()
		}
		u, ok := w.(interface{ Unwrap() dns.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
	return false
}

// isUDP reports whether w serves a UDP query, as the engines tell: from
// interface{ Network() string } when w has it, else from its remote address.
func isUDP(w dns.ResponseWriter) bool {
	if n, ok := w.(interface{ Network() string }); ok {
		return !strings.HasPrefix(n.Network(), "tcp")
	}
	_, isTCP := w.RemoteAddr().(*net.TCPAddr)
	return !isTCP
}

// remoteIP returns the client's address, or the zero Addr when it has none.
func remoteIP(w dns.ResponseWriter) netip.Addr {
	switch a := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case nil:
		return netip.Addr{}
	default:
		ap, _ := netip.ParseAddrPort(a.String())
		return ap.Addr().Unmap()
	}
}
