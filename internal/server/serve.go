package server

import (
	"context"
	"encoding/binary"
	"log/slog"
	"runtime/debug"

	"github.com/miekg/dns"
)

// headerLen is the size of the fixed DNS message header (RFC 1035 §4.1.1).
const headerLen = 12

// qrBit is the QR flag in the third byte of the header: set on responses.
const qrBit = 0x80

// messageKind is what the server makes of a received message before any handler sees it.
type messageKind int

const (
	// messageIgnored gets no reply: its header is unreadable, or it is a response (QR=1),
	// and answering responses invites reflection loops between servers.
	messageIgnored messageKind = iota
	// messageOversized is a query longer than the transport reads whole; it gets FORMERR.
	messageOversized
	// messageQuery goes on to the raw handler or the Handler.
	messageQuery
)

// classify sorts a received message; limit is the longest message the transport reads whole.
func classify(msg []byte, limit int) messageKind {
	switch {
	case len(msg) < headerLen || msg[2]&qrBit != 0:
		return messageIgnored
	case len(msg) > limit:
		return messageOversized
	default:
		return messageQuery
	}
}

// answer runs one received message through the server and sends the reply, if any,
// through w; see answerFast and answerWithHandler, which it runs in turn.
func (s *Server) answer(msg []byte, limit int, w *responseWriter) {
	if !s.answerFast(msg, limit, w) {
		s.answerWithHandler(msg, w)
	}
}

// answerFast does what needs no handler and cannot block: it drops an ignored message,
// answers an oversized one with FORMERR, and offers the rest to the raw handler. It
// reports whether msg is done with; if not, answerWithHandler takes it on. limit is the
// longest message the transport reads whole.
func (s *Server) answerFast(msg []byte, limit int, w *responseWriter) bool {
	switch classify(msg, limit) {
	case messageIgnored:
		s.debug("message ignored", w, len(msg), nil)
		return true
	case messageOversized:
		s.debug("query oversized", w, len(msg), nil)
		w.sendError(msg, dns.RcodeFormatError)
		return true
	}
	return s.answerRaw(msg, w)
}

// answerWithHandler unpacks msg, a query with a readable header, and runs Handler on it;
// a query that cannot be unpacked gets FORMERR.
func (s *Server) answerWithHandler(msg []byte, w *responseWriter) {
	req := new(dns.Msg)
	if err := req.Unpack(msg); err != nil {
		s.debug("query malformed", w, len(msg), err)
		w.sendError(msg, dns.RcodeFormatError)
		return
	}
	s.callHandler(msg, req, w)
}

// answerRaw offers msg to the raw handler and reports whether it took the query.
func (s *Server) answerRaw(msg []byte, w *responseWriter) (taken bool) {
	if s.cfg.RawHandler == nil {
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			s.logPanic("raw handler", p, w)
			w.sendError(msg, dns.RcodeServerFailure)
			taken = true
		}
	}()
	reply, ok := s.cfg.RawHandler(msg, w.network, w.remote, w.buf)
	if ok && len(reply) > 0 {
		if _, err := w.Write(reply); err != nil {
			s.debug("raw reply not sent", w, len(reply), err)
		}
	}
	return ok
}

// callHandler runs Handler for req, the unpacked form of msg.
func (s *Server) callHandler(msg []byte, req *dns.Msg, w *responseWriter) {
	defer func() {
		if p := recover(); p != nil {
			s.logPanic("handler", p, w)
			if !w.replied {
				w.sendError(msg, dns.RcodeServerFailure)
			}
		}
	}()
	if req.IsTsig() != nil {
		w.tsig = ErrTSIGNotVerified
	}
	if req.IsEdns0() == nil {
		w.keepalive = 0 // RFC 7828 §3.3.2: only a query with OPT gets the option
	}
	w.pad = w.encrypted && hasPadding(req)
	s.cfg.Handler.ServeDNS(w, req)
}

// errorReply packs into buf a reply to msg, whose header must be readable, carrying only
// msg's ID, opcode and RD bit, its first question when that parses, and rcode. It returns
// nil if the reply cannot be packed.
func errorReply(msg []byte, rcode int, buf []byte) []byte {
	reply := dns.Msg{MsgHdr: dns.MsgHdr{
		Id:               binary.BigEndian.Uint16(msg),
		Response:         true,
		Opcode:           int(msg[2]>>3) & 0xF,
		RecursionDesired: msg[2]&0x01 != 0,
		Rcode:            rcode,
	}}
	if q, ok := firstQuestion(msg); ok {
		reply.Question = []dns.Question{q}
	}
	packed, err := reply.PackBuffer(buf)
	if err != nil {
		return nil
	}
	return packed
}

// firstQuestion parses the first question of msg, if its header announces one and it is
// whole.
func firstQuestion(msg []byte) (dns.Question, bool) {
	if binary.BigEndian.Uint16(msg[4:]) == 0 {
		return dns.Question{}, false
	}
	name, off, err := dns.UnpackDomainName(msg, headerLen)
	if err != nil || off+4 > len(msg) {
		return dns.Question{}, false
	}
	return dns.Question{
		Name:   name,
		Qtype:  binary.BigEndian.Uint16(msg[off:]),
		Qclass: binary.BigEndian.Uint16(msg[off+2:]),
	}, true
}

// debug logs a message the server dropped or refused, at debug level: a flood of bad
// packets must not become a flood of logs, nor cost allocations when debug is off.
func (s *Server) debug(what string, w *responseWriter, size int, err error) {
	if !s.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	s.log.Debug(what, "network", w.network, "remote", w.remote, "size", size, "err", err)
}

// logPanic logs a recovered handler panic with its stack.
func (s *Server) logPanic(which string, p any, w *responseWriter) {
	s.log.Error(which+" panicked", "network", w.network, "remote", w.remote,
		"panic", p, "stack", string(debug.Stack()))
}
