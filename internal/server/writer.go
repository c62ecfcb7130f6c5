package server

import (
	"errors"
	"fmt"
	"net"

	"github.com/miekg/dns"
)

// ErrTSIGNotVerified is what ResponseWriter.TsigStatus returns for a query that carries a
// TSIG record: the server holds no TSIG keys, so the signature is unchecked (fail closed).
var ErrTSIGNotVerified = errors.New("server: TSIG not verified: the server holds no TSIG keys")

// errAlreadyReplied is returned by a second write for one UDP query: a query gets one datagram.
var errAlreadyReplied = errors.New("server: reply already sent for this query")

// errReplySize is returned for an empty reply, or one too long for the transport.
var errReplySize = errors.New("server: reply is empty or too long")

// replySink is where a responseWriter delivers wire-format replies: a UDP batch slot, which
// keeps one reply until the batch is written, or a TCP connection, which frames and writes
// each reply at once.
type replySink interface {
	send(reply []byte) error
	close() error
}

// responseWriter is the dns.ResponseWriter the Handler gets for one query. It also tells
// the transport: handlers type-assert interface{ Network() string } to pick UDP size limits
// and decide on TC; the server itself never truncates. It is valid only until ServeDNS
// returns (over UDP the server reuses it for later queries).
type responseWriter struct {
	sink    replySink
	network string // "udp" or "tcp"
	local   net.Addr
	remote  net.Addr
	buf     []byte // where replies are packed; nil lets packing allocate
	replied bool   // whether a reply went to sink
	tsig    error  // what TsigStatus reports

	// keepalive is the idle timeout, in units of 100 ms, that WriteMsg announces in an
	// RFC 7828 edns-tcp-keepalive option on a reply that has an OPT record. Only TCP and
	// DoT set it, and only for a query that had an OPT record itself (RFC 7828 §3.3.2).
	keepalive uint16

	// encrypted is set over DoT, DoH and DoQ; pad, set for a query over one of them that
	// carried an EDNS Padding option, makes WriteMsg pad the reply (padding.go).
	encrypted, pad bool
}

// Network reports the transport the query came over: "udp" or "tcp".
func (w *responseWriter) Network() string { return w.network }

// LocalAddr returns the address the query was received on.
func (w *responseWriter) LocalAddr() net.Addr { return w.local }

// RemoteAddr returns the client's address.
func (w *responseWriter) RemoteAddr() net.Addr { return w.remote }

// WriteMsg packs m and sends it as the reply.
func (w *responseWriter) WriteMsg(m *dns.Msg) error {
	if w.keepalive != 0 {
		m = withKeepalive(m, w.keepalive)
	}
	if w.pad {
		m = withPadding(m)
	}
	packed, err := m.PackBuffer(w.buf)
	if err != nil {
		return fmt.Errorf("server: pack reply: %w", err)
	}
	_, err = w.Write(packed)
	return err
}

// Write sends b, a wire-format DNS message, as the reply. Over UDP only the first reply to
// a query is sent; over TCP each write is one framed message (zone transfers write many).
func (w *responseWriter) Write(b []byte) (int, error) {
	if err := w.sink.send(b); err != nil {
		return 0, err
	}
	w.replied = true
	return len(b), nil
}

// Close closes a TCP connection, with every query still in flight on it; over UDP it does
// nothing.
func (w *responseWriter) Close() error { return w.sink.close() }

// TsigStatus returns nil for a query without TSIG, and ErrTSIGNotVerified for one with it.
func (w *responseWriter) TsigStatus() error { return w.tsig }

// TsigTimersOnly does nothing: the server does not sign replies.
func (w *responseWriter) TsigTimersOnly(bool) {}

// Hijack does nothing: the server keeps owning the connection, still applies its timeouts
// and closes it at Shutdown. A handler that streams (a zone transfer) writes its messages
// before ServeDNS returns.
func (w *responseWriter) Hijack() {}

// sendError sends errorReply(msg, rcode); msg's header must be readable.
func (w *responseWriter) sendError(msg []byte, rcode int) {
	if reply := errorReply(msg, rcode, w.buf); reply != nil {
		w.Write(reply) // a failed send leaves nothing more to do
	}
}

// withKeepalive returns m with an edns-tcp-keepalive option carrying timeout (in units of
// 100 ms, RFC 7828 §3.1) added to its OPT record. A reply without an OPT record, or whose
// OPT already has the option, is returned as is. m itself is not changed: the copy shares
// every record but the OPT.
func withKeepalive(m *dns.Msg, timeout uint16) *dns.Msg {
	opt := m.IsEdns0()
	if opt == nil {
		return m
	}
	for _, o := range opt.Option {
		if o.Option() == dns.EDNS0TCPKEEPALIVE {
			return m
		}
	}
	c := *m
	c.Extra = make([]dns.RR, len(m.Extra))
	for i, rr := range m.Extra {
		if rr != opt {
			c.Extra[i] = rr
			continue
		}
		o := *opt
		o.Option = append(append([]dns.EDNS0(nil), opt.Option...),
			&dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE, Timeout: timeout})
		c.Extra[i] = &o
	}
	return &c
}
