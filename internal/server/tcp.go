package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// tcpReadBuffer is the size of each connection's read buffer: pipelined queries arrive
// several per read.
const tcpReadBuffer = 4096

// acceptLoop admits connections from ln until it is closed.
func (s *Server) acceptLoop(ln net.Listener) {
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if err == nil {
			pause = 0
			s.admit(nc)
			continue
		}
		if s.stopping() || errors.Is(err, net.ErrClosed) {
			return
		}
		pause = nextPause(pause)
		s.log.Warn("tcp accept failed", "local", ln.Addr(), "err", err, "retry_in", pause)
		if !s.wait(pause) {
			return
		}
	}
}

// admit serves nc, or closes it at once when the Server is at MaxTCPConns or closing.
func (s *Server) admit(nc net.Conn) {
	if !s.startConn(newTCPConn(s, nc)) {
		s.log.Debug("tcp connection refused", "remote", nc.RemoteAddr(), "max_tcp_conns", s.cfg.MaxTCPConns)
		nc.Close()
	}
}

// tcpConn serves one TCP connection per RFC 7766: 2-byte length framing, and pipelining
// with out-of-order replies. One goroutine reads; each query runs in its own goroutine, at
// most MaxPipelined at once; replies are written whole under a mutex.
type tcpConn struct {
	srv     *Server
	conn    net.Conn
	r       *bufio.Reader  // used only by the reading goroutine
	prefix  [2]byte        // used only by the reading goroutine
	slots   chan struct{}  // holds one token per query in flight
	queries sync.WaitGroup // the connection's query goroutines

	wmu  sync.Mutex // guards wbuf and writes to conn
	wbuf []byte
}

func newTCPConn(srv *Server, nc net.Conn) *tcpConn {
	return &tcpConn{
		srv:   srv,
		conn:  nc,
		r:     bufio.NewReaderSize(nc, tcpReadBuffer),
		slots: make(chan struct{}, srv.cfg.MaxPipelined),
	}
}

// serve reads queries until the client closes, a timeout passes or Shutdown begins, then
// waits for the queries in flight before closing the connection.
func (c *tcpConn) serve() {
	defer c.finish()
	timeout := c.srv.cfg.TCPFirstMessageTimeout
	if err := c.handshake(timeout); err != nil {
		c.logEnd(err)
		return
	}
	for c.acquire() {
		msg, err := c.read(timeout)
		if err != nil {
			c.release()
			c.logEnd(err)
			return
		}
		timeout = c.srv.cfg.TCPIdleTimeout
		c.queries.Go(func() {
			defer c.release()
			c.answer(msg)
		})
	}
}

// acquire takes a slot for the next query, waiting while MaxPipelined are in flight. It
// reports false once Shutdown has begun.
func (c *tcpConn) acquire() bool {
	c.slots <- struct{}{}
	if c.srv.stopping() {
		c.release()
		return false
	}
	return true
}

func (c *tcpConn) release() { <-c.slots }

// read reads one length-prefixed message, which must arrive whole within timeout.
func (c *tcpConn) read(timeout time.Duration) ([]byte, error) {
	if err := c.conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(c.r, c.prefix[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint16(c.prefix[:]))
	if _, err := io.ReadFull(c.r, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// answer runs one query; the reply goes out through send.
func (c *tcpConn) answer(msg []byte) {
	w := &responseWriter{sink: c, network: "tcp", local: c.conn.LocalAddr(), remote: c.conn.RemoteAddr(),
		keepalive: keepaliveUnits(c.srv.cfg.TCPIdleTimeout), encrypted: isTLS(c.conn)}
	c.srv.answer(msg, tcpMessageMax, w)
}

// send writes reply with its length prefix in one write. A write that fails or times out
// closes the connection: a client that does not read its replies gets no more.
func (c *tcpConn) send(reply []byte) error {
	if len(reply) == 0 || len(reply) > tcpMessageMax {
		return errReplySize
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = binary.BigEndian.AppendUint16(c.wbuf[:0], uint16(len(reply)))
	c.wbuf = append(c.wbuf, reply...)
	if err := c.conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout)); err != nil {
		return fmt.Errorf("server: tcp write: %w", err)
	}
	if _, err := c.conn.Write(c.wbuf); err != nil {
		c.conn.Close()
		return fmt.Errorf("server: tcp write: %w", err)
	}
	return nil
}

// close closes the connection; queries in flight on it can no longer reply.
func (c *tcpConn) close() error { return c.conn.Close() }

// closeRead stops the connection's reading for Shutdown: the reader sees end of file and
// the connection closes after its last reply.
func (c *tcpConn) closeRead() {
	if cr, ok := c.conn.(interface{ CloseRead() error }); ok {
		cr.CloseRead()
		return
	}
	c.conn.SetReadDeadline(time.Now())
}

// finish waits for the connection's queries, closes it and frees its slot.
func (c *tcpConn) finish() {
	c.queries.Wait()
	c.conn.Close()
	c.srv.removeConn(c)
}

// logEnd logs why reading stopped; a client closing is the normal end and is not logged.
func (c *tcpConn) logEnd(err error) {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.srv.log.Debug("tcp connection timed out", "remote", c.conn.RemoteAddr())
	default:
		c.srv.log.Debug("tcp connection ended", "remote", c.conn.RemoteAddr(), "err", err)
	}
}
