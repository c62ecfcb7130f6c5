package server

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// DoQ error codes (RFC 9250 §4.3), sent when closing a connection or resetting a stream.
const (
	doqNoError          quic.ApplicationErrorCode = 0x0
	doqInternalError    quic.ApplicationErrorCode = 0x1
	doqProtocolError    quic.ApplicationErrorCode = 0x2
	doqRequestCancelled quic.StreamErrorCode      = 0x3
	doqExcessiveLoad    quic.ApplicationErrorCode = 0x4
)

// ListenQUIC binds a UDP socket to addr and serves DNS over QUIC (RFC 9250) on it until
// Shutdown. It returns the bound address.
//
// cfg supplies the certificate as for ListenTLS; NextProtos defaults to "doq", and a client
// that does not offer it fails the handshake. Each query comes on its own bidirectional
// stream, 2-byte length prefix first, and the reply goes back on the same stream, which is
// then closed. A query whose message ID is not 0 is a protocol error that closes the
// connection (RFC 9250 §4.2.1).
//
// Limits (LIMITS.md): at most Config.MaxTCPConns connections on this listener (more are
// closed with DOQ_EXCESSIVE_LOAD), Config.MaxPipelined concurrent streams per connection,
// the handshake within Config.TCPFirstMessageTimeout, a connection idle for
// Config.TCPIdleTimeout closed, and each stream's query within TCPFirstMessageTimeout.
// Handlers see Network() "tcp": a DoQ reply is never truncated.
func (s *Server) ListenQUIC(addr string, cfg *tls.Config) (net.Addr, error) {
	tc, err := serverTLSConfig(cfg, ALPNDoQ)
	if err != nil {
		return nil, err
	}
	tc.MinVersion = tls.VersionTLS13 // QUIC is TLS 1.3 only (RFC 9001 §4.2)
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	uc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	tr := &quic.Transport{Conn: uc}
	ln, err := tr.Listen(tc, &quic.Config{
		HandshakeIdleTimeout:  s.cfg.TCPFirstMessageTimeout,
		MaxIdleTimeout:        s.cfg.TCPIdleTimeout,
		MaxIncomingStreams:    int64(s.cfg.MaxPipelined),
		MaxIncomingUniStreams: -1, // DoQ uses none (RFC 9250 §4.2)
	})
	if err != nil {
		tr.Close()
		uc.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	q := &quicService{srv: s, tr: tr, ln: ln, conns: make(map[*quic.Conn]struct{})}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	err = s.startService(q, func() {
		s.wg.Go(q.acceptLoop)
	})
	if err != nil {
		tr.Close()
		uc.Close()
		return nil, err
	}
	return ln.Addr(), nil
}

// quicService is one DoQ listener, stopped by the Server's Shutdown.
type quicService struct {
	srv    *Server
	tr     *quic.Transport // owns the UDP socket
	ln     *quic.Listener
	ctx    context.Context // ends when Shutdown begins: no more connections or streams
	cancel context.CancelFunc

	mu    sync.Mutex // guards conns
	conns map[*quic.Conn]struct{}
}

// acceptLoop admits connections until Shutdown.
func (q *quicService) acceptLoop() {
	for {
		conn, err := q.ln.Accept(q.ctx)
		if err != nil {
			if q.ctx.Err() == nil {
				q.srv.log.Error("doq listener failed", "local", q.ln.Addr(), "err", err)
			}
			return
		}
		if !q.admit(conn) {
			q.srv.log.Debug("doq connection refused", "remote", conn.RemoteAddr(), "max_tcp_conns", q.srv.cfg.MaxTCPConns)
			conn.CloseWithError(doqExcessiveLoad, "too many connections")
		}
	}
}

// admit registers conn and starts serving it, unless the listener is at its cap.
func (q *quicService) admit(conn *quic.Conn) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.conns) >= q.srv.cfg.MaxTCPConns || q.ctx.Err() != nil {
		return false
	}
	q.conns[conn] = struct{}{}
	q.srv.wg.Go(func() { q.serveConn(conn) }) // wg > 0 here: acceptLoop is counted
	return true
}

// serveConn accepts the streams of conn until it closes or Shutdown begins, then waits for
// the queries in flight and closes it.
func (q *quicService) serveConn(conn *quic.Conn) {
	var streams sync.WaitGroup
	var protocolErr sync.Once // the first protocol error closes conn; later ones are moot
	defer func() {
		streams.Wait()
		conn.CloseWithError(doqNoError, "")
		q.mu.Lock()
		delete(q.conns, conn)
		q.mu.Unlock()
	}()
	ctx, cancel := context.WithCancel(q.ctx)
	defer cancel()
	for {
		st, err := conn.AcceptStream(ctx)
		if err != nil {
			return // the client closed, the connection idled out, or Shutdown
		}
		streams.Go(func() {
			if err := q.serveStream(conn, st); err != nil {
				protocolErr.Do(func() {
					q.srv.log.Debug("doq protocol error", "remote", conn.RemoteAddr(), "err", err)
					conn.CloseWithError(doqProtocolError, err.Error())
					cancel()
				})
			}
		})
	}
}

// errDoQID is the protocol error of a DoQ query whose message ID is not 0.
var errDoQID = errors.New("server: doq query with a message ID other than 0 (RFC 9250 §4.2.1)")

// serveStream reads the one query of st, answers it and closes st. It returns an error only
// for a protocol error, which closes the whole connection.
func (q *quicService) serveStream(conn *quic.Conn, st *quic.Stream) error {
	st.SetReadDeadline(time.Now().Add(q.srv.cfg.TCPFirstMessageTimeout))
	var prefix [2]byte
	if _, err := io.ReadFull(st, prefix[:]); err != nil {
		st.CancelRead(doqRequestCancelled)
		st.CancelWrite(doqRequestCancelled)
		return nil
	}
	msg := make([]byte, binary.BigEndian.Uint16(prefix[:]))
	if _, err := io.ReadFull(st, msg); err != nil {
		st.CancelRead(doqRequestCancelled)
		st.CancelWrite(doqRequestCancelled)
		return nil
	}
	if len(msg) >= 2 && binary.BigEndian.Uint16(msg) != 0 {
		return errDoQID
	}
	w := &responseWriter{sink: &doqSink{st: st}, network: "tcp", local: conn.LocalAddr(), remote: conn.RemoteAddr(), encrypted: true}
	q.srv.answer(msg, tcpMessageMax, w)
	if !w.replied {
		st.CancelWrite(doqRequestCancelled) // an ignored message: no reply
	}
	return nil
}

// doqSink writes the one reply of a DoQ stream, length-prefixed, and closes the stream's
// sending side (RFC 9250 §4.2).
type doqSink struct {
	st   *quic.Stream
	sent bool
}

func (d *doqSink) send(reply []byte) error {
	switch {
	case len(reply) == 0 || len(reply) > tcpMessageMax:
		return errReplySize
	case d.sent:
		return errAlreadyReplied
	}
	d.sent = true
	buf := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reply)), uint16(len(reply)))
	buf = append(buf, reply...)
	d.st.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	if _, err := d.st.Write(buf); err != nil {
		d.st.CancelWrite(doqInternalErrorStream)
		return fmt.Errorf("server: doq write: %w", err)
	}
	return d.st.Close()
}

// doqInternalErrorStream is DOQ_INTERNAL_ERROR as a stream reset code.
const doqInternalErrorStream quic.StreamErrorCode = quic.StreamErrorCode(doqInternalError)

// close resets the stream: the handler gave up on the query.
func (d *doqSink) close() error {
	d.st.CancelWrite(doqRequestCancelled)
	return nil
}

// stopIntake stops accepting connections and streams; queries in flight finish and their
// connections close with DOQ_NO_ERROR.
func (q *quicService) stopIntake() {
	q.cancel()
	q.ln.Close()
}

// closeAll closes every connection at once, and the UDP socket.
func (q *quicService) closeAll() {
	q.mu.Lock()
	for c := range q.conns {
		c.CloseWithError(doqNoError, "server shutting down")
	}
	q.mu.Unlock()
	q.tr.Close()
	q.tr.Conn.Close()
}
