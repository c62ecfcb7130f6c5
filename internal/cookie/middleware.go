package cookie

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ErrConfig is wrapped by the errors New and NewClientJar return for a
// configuration they cannot use.
var ErrConfig = errors.New("cookie: invalid configuration")

// Config configures the server side of DNS Cookies. Its zero value works: a
// random secret, the system clock, cookies offered but not required.
type Config struct {
	// Secret is the 16-byte SipHash-2-4 key that makes and verifies Server
	// Cookies (RFC 9018 §4.4). All servers of an anycast set need the same
	// one. Default (all zero): 16 bytes read from Rand at New, so cookies
	// stop verifying when the process restarts.
	Secret [16]byte
	// PreviousSecret is the secret being rolled out (RFC 9018 §5): cookies
	// made with it still verify, and are answered with a fresh cookie made
	// with Secret. Default (all zero): none.
	PreviousSecret [16]byte
	// Now is the clock that stamps and checks cookies. Default: time.Now.
	Now func() time.Time
	// Rand is read for a default Secret. Default: crypto/rand.Reader.
	Rand io.Reader
	// Require makes a valid Server Cookie the price of a UDP answer: a UDP
	// query without a COOKIE option gets an empty TC=1 reply (the client can
	// retry over TCP), and one with a Client Cookie but no valid Server
	// Cookie gets BADCOOKIE with a fresh cookie to retry with (RFC 7873
	// §5.2.3, §5.4). TCP is always answered. Default: false, cookies are
	// offered and checked but never required.
	Require bool
}

// Validator is what the ResponseWriter a handler behind the middleware
// receives implements: ValidCookie reports whether the query carried a
// valid Server Cookie, that is whether the client proved it receives
// replies at its source address. internal/ratelimit declares the same
// interface and exempts such clients; neither package imports the other.
type Validator interface {
	ValidCookie() bool
}

// New returns the server-side DNS Cookies middleware for cfg (RFC 7873 §5.2,
// RFC 9018), or an error wrapping ErrConfig. For each query with an OPT
// record of version 0 it:
//
//   - answers FORMERR, without calling the handler, when the COOKIE option
//     is malformed (RFC 7873 §5.2.2);
//   - with Require over UDP, answers TC=1 when there is no COOKIE option, and
//     BADCOOKIE with a fresh cookie when the Server Cookie is missing or
//     invalid, without calling the handler;
//   - otherwise calls the handler, and adds to its reply the client's Client
//     Cookie and a Server Cookie: the one received when it is valid and less
//     than 30 minutes old, a fresh one made with the current secret when not.
//
// An invalid or expired Server Cookie is treated as if only the Client Cookie
// had been sent (RFC 7873 §5.2.3). The ResponseWriter the handler gets
// implements Validator. Queries without EDNS, or with an EDNS version
// other than 0 (left for the handler's BADVERS), pass through untouched;
// with Require, a UDP query without EDNS gets TC=1.
func New(cfg Config) (func(dns.Handler) dns.Handler, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	s := &secrets{current: cfg.Secret, previous: cfg.PreviousSecret, hasPrevious: cfg.PreviousSecret != [16]byte{}}
	if s.current == [16]byte{} {
		if _, err := io.ReadFull(cfg.Rand, s.current[:]); err != nil {
			return nil, fmt.Errorf("%w: read a random secret: %v", ErrConfig, err)
		}
	}
	if s.hasPrevious && s.previous == s.current {
		s.hasPrevious = false
	}
	mw := &middleware{secrets: s, now: cfg.Now, require: cfg.Require}
	return func(next dns.Handler) dns.Handler {
		return dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) { mw.serve(next, w, r) })
	}, nil
}

// middleware is the state New's handlers share; it never changes after New.
type middleware struct {
	secrets *secrets
	now     func() time.Time
	require bool
}

// serve handles one query; see New.
func (mw *middleware) serve(next dns.Handler, w dns.ResponseWriter, r *dns.Msg) {
	udp := udpOf(w)
	opt := r.IsEdns0()
	if r.Response || opt != nil && opt.Version() != 0 {
		next.ServeDNS(w, r) // not a query, or the handler's BADVERS (RFC 6891 §6.1.3)
		return
	}
	if opt == nil {
		if mw.require && udp {
			_ = w.WriteMsg(truncated(r))
			return
		}
		next.ServeDNS(w, r)
		return
	}
	o, found, err := FromMsg(r)
	switch {
	case err != nil:
		_ = w.WriteMsg(reply(r, dns.RcodeFormatError))
		return
	case !found && mw.require && udp:
		_ = w.WriteMsg(truncated(r))
		return
	case !found:
		next.ServeDNS(w, r)
		return
	}
	ip, ok := remoteIP(w)
	if !ok {
		next.ServeDNS(w, r) // no address to bind a cookie to
		return
	}
	now := mw.now()
	cw := &writer{ResponseWriter: w, udp: udp, limit: udpLimit(opt), option: Option{Client: o.Client}}
	switch mw.secrets.check(o, ip, now) {
	case cookieValid:
		cw.valid = true
		cw.option.Server = o.Server
	case cookieRenew:
		cw.valid = true
		fallthrough
	default:
		fresh := mw.secrets.issue(o.Client, ip, now)
		cw.option.Server = fresh[:]
	}
	if !cw.valid && mw.require && udp {
		_ = cw.WriteMsg(reply(r, dns.RcodeBadCookie))
		return
	}
	next.ServeDNS(cw, r)
}

// writer is the ResponseWriter handlers behind the middleware get: it adds
// the COOKIE option to every reply and reports whether the query's cookie was
// valid.
type writer struct {
	dns.ResponseWriter
	option Option // Client Cookie echoed, Server Cookie to send
	valid  bool   // the query carried a valid Server Cookie
	udp    bool   // the query came over UDP
	limit  int    // the largest UDP reply the client takes
}

// ValidCookie reports whether the query carried a valid Server Cookie.
func (w *writer) ValidCookie() bool { return w.valid }

// Unwrap returns the ResponseWriter this one wraps.
func (w *writer) Unwrap() dns.ResponseWriter { return w.ResponseWriter }

// Network reports "udp" or "tcp", as the wrapped writer does, so handlers
// size their replies for the right transport.
func (w *writer) Network() string {
	if udpOf(w.ResponseWriter) {
		return "udp"
	}
	return "tcp"
}

// WriteMsg writes a copy of m carrying the COOKIE option. A UDP reply that
// fitted the client's limit but no longer does with the option is sent as
// TC=1 with the question and the option only.
func (w *writer) WriteMsg(m *dns.Msg) error {
	out := withCookie(m, w.option)
	if w.udp && out.Len() > w.limit && m.Len() <= w.limit {
		out = withCookie(truncatedFrom(m), w.option)
	}
	return w.ResponseWriter.WriteMsg(out)
}

// Write adds the COOKIE option to b, a wire-format reply; bytes that do not
// unpack are written unchanged.
func (w *writer) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return w.ResponseWriter.Write(b)
	}
	if err := w.WriteMsg(m); err != nil {
		return 0, err
	}
	return len(b), nil
}

// reply returns an empty reply to r with rcode: header, question and an OPT
// record (which BADCOOKIE, an extended rcode, needs).
func reply(r *dns.Msg, rcode int) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(r, rcode)
	m.Extra = []dns.RR{newOPT()}
	return m
}

// truncated returns an empty TC=1 reply to r, with an OPT record when r had
// one.
func truncated(r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Truncated = true
	if r.IsEdns0() != nil {
		m.Extra = []dns.RR{newOPT()}
	}
	return m
}

// truncatedFrom returns m reduced to header, question and OPT record, with
// TC=1.
func truncatedFrom(m *dns.Msg) *dns.Msg {
	t := &dns.Msg{MsgHdr: m.MsgHdr, Question: m.Question, Compress: m.Compress}
	t.Truncated = true
	if opt := m.IsEdns0(); opt != nil {
		t.Extra = []dns.RR{opt}
	}
	return t
}

// udpLimit is the largest UDP reply the client that sent opt takes, capped at
// maxUDPPayload.
func udpLimit(opt *dns.OPT) int {
	return min(max(int(opt.UDPSize()), minUDPPayload), maxUDPPayload)
}

// udpOf reports whether w serves a UDP query, the way the engines tell: from
// interface{ Network() string } when w has it, else from its remote address.
func udpOf(w dns.ResponseWriter) bool {
	if n, ok := w.(interface{ Network() string }); ok {
		return !strings.HasPrefix(n.Network(), "tcp")
	}
	_, isTCP := w.RemoteAddr().(*net.TCPAddr)
	return !isTCP
}

// remoteIP returns the client's address, IPv4 in its 4-byte form.
func remoteIP(w dns.ResponseWriter) (netip.Addr, bool) {
	var ip net.IP
	switch a := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	case nil:
		return netip.Addr{}, false
	default:
		ap, err := netip.ParseAddrPort(a.String())
		return ap.Addr().Unmap(), err == nil
	}
	addr, ok := netip.AddrFromSlice(ip)
	return addr.Unmap(), ok
}
