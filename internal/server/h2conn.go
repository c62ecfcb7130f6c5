package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Conn serves DNS over HTTPS on one HTTP/2 connection (RFC 9113, RFC 8484). It owns the
// connection: the frame and header codecs are x/net's (http2.Framer, hpack), the rest is
// here, shaped for many small requests and answers:
//
//   - One goroutine reads frames (readLoop) and keeps the state of every stream. A request
//     that is refused (404, 405, 413, 414, 415, 400) or that Config.RawHandler answers is
//     answered right there; any other goes to one of the connection's workers, at most one
//     per concurrent stream, which run the Handler, which may block (a resolver's cache
//     miss).
//   - One goroutine writes (writeLoop, h2write.go). Answers and control frames are queued;
//     it encodes all that is queued (HPACK, HEADERS and DATA within the client's flow-control
//     windows) and sends it in one write, so that a busy connection answers dozens of
//     queries per TLS record and system call.
//   - Bounds: Config.MaxPipelined streams at once (SETTINGS_MAX_CONCURRENT_STREAMS; one more
//     is refused with RST_STREAM REFUSED_STREAM), request bodies within h2ConnWindow, header
//     lists within dohMaxHeaderBytes, and at most h2MaxBacklog bytes of output queued: past
//     it the connection stops reading, so a client that never reads its answers cannot make
//     the server buffer them.
//   - Errors: a protocol error ends the connection with GOAWAY and its code, a bad request
//     ends only its stream with RST_STREAM; Shutdown, the client's GOAWAY and the idle
//     timeout end it gracefully: GOAWAY, then the streams already begun are answered.
type h2Conn struct {
	srv        *Server
	path       string // the DoH path
	nc         net.Conn
	local      net.Addr
	remote     net.Addr
	maxStreams int
	start      time.Time

	// Owned by the reading goroutine.
	br          *bufio.Reader
	fr          *http2.Framer
	gotSettings bool
	recvWindow  int64 // connection receive window left to the client
	workers     int
	jobs        chan *h2Stream

	mu sync.Mutex // guards what follows, shared by the reader, the workers and the writer
	// streams holds every open stream: counted against maxStreams until its answer's
	// END_STREAM is queued for writing, or it is reset.
	streams    map[uint32]*h2Stream
	lastStream uint32       // the highest stream the client opened (written by the reader)
	idleSince  time.Time    // when the last open stream closed
	ready      []*h2Stream  // answers to write, in order
	blocked    []*h2Stream  // answers whose DATA waits for flow-control window
	pend       bytes.Buffer // control frames, encoded by ctl
	ctl        *http2.Framer
	credit     uint32 // connection receive window to give back to the client
	queued     int    // bytes of pend and ready: the backlog, with writing
	writing    int    // bytes of the write in progress
	resets     [h2RecentResets]uint32
	resetNext  int

	// The client's settings and the send windows (RFC 9113 §6.5.2, §6.9).
	sendWindow     int64
	peerInitWindow int64
	peerMaxFrame   uint32
	peerTableSize  uint32
	tableChanged   bool

	goaway     bool          // a GOAWAY is to be sent (then goawaySent)
	goawayCode http2.ErrCode // its code: NO_ERROR when draining
	goawayLast uint32        // its last stream: the last one served
	goawaySent bool
	draining   bool // no new streams; close once the open ones are answered
	fatal      bool // a protocol error: close right after the GOAWAY
	dead       bool // the connection is broken or abandoned: write nothing more

	wake       chan struct{} // tells the writer there is something to write (capacity 1)
	room       chan struct{} // tells the reader the writer made room (capacity 1)
	writerDone chan struct{}
	workerWG   sync.WaitGroup

	// Test hooks, nil otherwise: onStall runs when the reader stops for the backlog;
	// onBatch, under mu, with the output queued when the writer takes a batch.
	onStall func()
	onBatch func(queued int)
}

// h2Stream is one request and its answer.
type h2Stream struct {
	id uint32

	// Owned by the reader until the request is complete.
	receiving bool   // a POST whose body is still coming
	answered  bool   // an answer is decided: further DATA is dropped
	body      []byte // the POST body so far
	held      int    // connection window the stream's DATA took, not yet given back
	received  int64  // DATA bytes received in all, against the stream's window
	declared  int64  // content-length, or -1
	query     []byte // the DNS query, for the worker

	// Guarded by h2Conn.mu.
	remoteDone bool  // the client ended its side (END_STREAM)
	closed     bool  // no longer in streams
	sendWindow int64 // relative to the client's initial window: see h2Conn.window
	resp       h2Response
	queuedCost int // what the answer added to h2Conn.queued
}

// errH2Preface is a connection that does not start with the HTTP/2 client preface.
var errH2Preface = errors.New("server: not an HTTP/2 connection preface")

// newH2Conn returns the HTTP/2 side of a DoH connection nc, whose TLS handshake (with ALPN
// h2) is done.
func newH2Conn(srv *Server, path string, nc net.Conn) *h2Conn {
	c := &h2Conn{
		srv:            srv,
		path:           path,
		nc:             nc,
		local:          nc.LocalAddr(),
		remote:         nc.RemoteAddr(),
		maxStreams:     srv.cfg.MaxPipelined,
		start:          time.Now(),
		recvWindow:     h2ConnWindow,
		jobs:           make(chan *h2Stream),
		streams:        make(map[uint32]*h2Stream),
		sendWindow:     65535, // RFC 9113 §6.9.2: the initial window of every connection
		peerInitWindow: 65535,
		peerMaxFrame:   h2MaxFrameSize,
		wake:           make(chan struct{}, 1),
		room:           make(chan struct{}, 1),
		writerDone:     make(chan struct{}),
	}
	c.br = bufio.NewReaderSize(h2DeadlineReader{c}, h2MaxFrameSize+64)
	c.fr = http2.NewFramer(nil, c.br)
	c.fr.SetMaxReadFrameSize(h2MaxFrameSize)
	c.fr.SetReuseFrames()
	c.fr.ReadMetaHeaders = hpack.NewDecoder(h2HeaderTableSize, nil)
	c.fr.MaxHeaderListSize = dohMaxHeaderBytes
	c.ctl = http2.NewFramer(&c.pend, nil)
	return c
}

// serve runs the connection until it ends, then closes it. It returns once its writer and
// workers are done.
func (c *h2Conn) serve() {
	c.sendPreface()
	go c.writeLoop() // ends by itself once the reader and workers are done with it
	err := c.readLoop()
	c.end(err)
	close(c.jobs)
	<-c.writerDone
	c.nc.Close()
	c.workerWG.Wait()
}

// sendPreface queues the server's connection preface: its SETTINGS (RFC 9113 §3.4), and a
// WINDOW_UPDATE that raises the connection's receive window to h2ConnWindow.
func (c *h2Conn) sendPreface() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.control(func(f *http2.Framer) error {
		return f.WriteSettings(
			http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: uint32(c.maxStreams)},
			http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
			http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: dohMaxHeaderBytes},
		)
	})
	c.credit += h2ConnWindow - 65535
	c.kickLocked()
}

// readLoop reads the preface and then frames until the connection ends, and returns why:
// an http2.ConnectionError for a protocol error, errH2Preface, or the read error.
func (c *h2Conn) readLoop() error {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c.br, preface); err != nil {
		return err
	}
	if string(preface) != http2.ClientPreface {
		return errH2Preface
	}
	for {
		if !c.waitRoom() {
			return net.ErrClosed
		}
		f, err := c.fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				c.streamError(se)
				continue
			}
			return err
		}
		if err := c.process(f); err != nil {
			return err
		}
		if c.br.Buffered() == 0 {
			c.kick() // nothing more to read right away: let the writer send what is queued
		}
	}
}

// streamError resets the stream of a frame the Framer refused (an invalid header block, a
// WINDOW_UPDATE of 0). A stream it was opening counts as opened, and so closed.
func (c *h2Conn) streamError(se http2.StreamError) {
	c.mu.Lock()
	if se.StreamID > c.lastStream && se.StreamID%2 == 1 {
		c.lastStream = se.StreamID
	}
	c.mu.Unlock()
	c.resetStream(se.StreamID, se.Code)
}

// end stops the connection after readLoop returned err: a protocol error gets GOAWAY with
// its code; a client gone or a broken connection stops everything; a timeout drains.
func (c *h2Conn) end(err error) {
	var ce http2.ConnectionError
	switch {
	case errors.As(err, &ce):
		c.fail(http2.ErrCode(ce))
	case errors.Is(err, http2.ErrFrameTooLarge):
		c.fail(http2.ErrCodeFrameSize)
	case errors.Is(err, errH2Preface):
		c.fail(http2.ErrCodeProtocol)
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.srv.log.Debug("doh connection timed out", "remote", c.remote)
		c.drain()
		c.abandonAfterDrain()
	default:
		c.abandon()
	}
}

// process handles one frame; an error ends the connection.
func (c *h2Conn) process(f http2.Frame) error {
	if !c.gotSettings {
		// RFC 9113 §3.4: the client preface ends with a SETTINGS frame.
		sf, ok := f.(*http2.SettingsFrame)
		if !ok || sf.IsAck() {
			return http2.ConnectionError(http2.ErrCodeProtocol)
		}
		c.gotSettings = true
	}
	switch f := f.(type) {
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.MetaHeadersFrame:
		return c.onHeaders(f)
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.PingFrame:
		if !f.IsAck() {
			c.mu.Lock()
			c.control(func(w *http2.Framer) error { return w.WritePing(true, f.Data) })
			c.mu.Unlock()
		}
		return nil
	case *http2.RSTStreamFrame:
		return c.onReset(f)
	case *http2.GoAwayFrame:
		c.drain() // the client opens no more streams: answer those open, then close
		return nil
	case *http2.PushPromiseFrame:
		return http2.ConnectionError(http2.ErrCodeProtocol) // RFC 9113 §8.4: clients never push
	default:
		return nil // PRIORITY, PRIORITY_UPDATE and unknown types are ignored (§5.5)
	}
}

// onSettings applies the client's settings and acknowledges them (RFC 9113 §6.5).
func (c *h2Conn) onSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingHeaderTableSize:
			c.peerTableSize, c.tableChanged = s.Val, true
		case http2.SettingInitialWindowSize:
			return c.setInitialWindow(int64(s.Val))
		case http2.SettingMaxFrameSize:
			c.peerMaxFrame = s.Val
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.control(func(w *http2.Framer) error { return w.WriteSettingsAck() })
	c.kickLocked()
	return nil
}

// setInitialWindow changes the client's initial stream window, which moves the send window
// of every open stream by the difference (RFC 9113 §6.9.2). Stream windows are kept
// relative to it, so only an overflow needs checking.
func (c *h2Conn) setInitialWindow(v int64) error {
	for _, st := range c.streams {
		if v+st.sendWindow > maxWindow {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
	}
	c.peerInitWindow = v
	return nil
}

// maxWindow is the largest flow-control window (RFC 9113 §6.9.1).
const maxWindow = 1<<31 - 1

// onWindowUpdate gives the server more room to send DATA (RFC 9113 §6.9).
func (c *h2Conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	inc := int64(f.Increment)
	if f.StreamID == 0 {
		if c.sendWindow+inc > maxWindow {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		c.sendWindow += inc
		c.kickLocked()
		return nil
	}
	st := c.streams[f.StreamID]
	if st == nil {
		if f.StreamID > c.lastStream {
			return http2.ConnectionError(http2.ErrCodeProtocol) // an idle stream (§5.1)
		}
		return nil // a stream already closed: it may have crossed our END_STREAM
	}
	if c.peerInitWindow+st.sendWindow+inc > maxWindow {
		c.resetLocked(st.id, http2.ErrCodeFlowControl)
		return nil
	}
	st.sendWindow += inc
	c.kickLocked()
	return nil
}

// onReset ends a stream the client cancelled: its answer, if any comes, is dropped.
func (c *h2Conn) onReset(f *http2.RSTStreamFrame) error {
	c.mu.Lock()
	st := c.streams[f.StreamID]
	idle := st == nil && f.StreamID > c.lastStream
	if st != nil {
		c.closeStreamLocked(st)
	}
	c.mu.Unlock()
	if idle {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	if st != nil {
		c.giveBack(st)
	}
	return nil
}

// onData takes a DATA frame: the body of a POST, counted against both receive windows.
func (c *h2Conn) onData(f *http2.DataFrame) error {
	n := int64(f.Length) // padding included (§6.9.1)
	if n > c.recvWindow {
		return http2.ConnectionError(http2.ErrCodeFlowControl)
	}
	c.recvWindow -= n
	c.mu.Lock()
	st := c.streams[f.StreamID]
	lastStream := c.lastStream
	remoteDone := st != nil && st.remoteDone
	recent := st == nil && c.recentlyResetLocked(f.StreamID)
	c.mu.Unlock()
	switch {
	case st == nil && f.StreamID > lastStream:
		return http2.ConnectionError(http2.ErrCodeProtocol) // an idle stream (§5.1)
	case st == nil || remoteDone:
		c.returnCredit(n)
		if !recent {
			c.resetStream(f.StreamID, http2.ErrCodeStreamClosed) // §6.1
		}
		return nil
	}
	st.held += int(n)
	st.received += n
	if st.received > h2StreamWindow {
		c.resetStream(st.id, http2.ErrCodeFlowControl) // the stream's window is never raised
		return nil
	}
	if !st.answered {
		st.body = append(st.body, f.Data()...)
		if len(st.body) > tcpMessageMax {
			c.refuse(st, http.StatusRequestEntityTooLarge, errDoHTooLarge.Error())
		}
	}
	if st.answered {
		c.giveBack(st) // the answer is decided: the rest of the body is dropped
	}
	if f.StreamEnded() {
		c.endOfRequest(st)
	}
	return nil
}

// giveBack returns to the client the connection window st's DATA took.
func (c *h2Conn) giveBack(st *h2Stream) {
	if st.held > 0 {
		c.returnCredit(int64(st.held))
		st.held = 0
	}
}

// returnCredit queues a connection WINDOW_UPDATE of n bytes (sent with the next write).
func (c *h2Conn) returnCredit(n int64) {
	c.recvWindow += n
	c.mu.Lock()
	c.credit += uint32(n)
	c.mu.Unlock()
}

// resetStream closes stream id, if open, and queues RST_STREAM with code.
func (c *h2Conn) resetStream(id uint32, code http2.ErrCode) {
	c.mu.Lock()
	st := c.streams[id]
	c.resetLocked(id, code)
	c.mu.Unlock()
	if st != nil {
		c.giveBack(st)
	}
}

// resetLocked closes stream id, if open, and queues RST_STREAM with code.
func (c *h2Conn) resetLocked(id uint32, code http2.ErrCode) {
	if st := c.streams[id]; st != nil {
		c.closeStreamLocked(st)
	}
	c.rememberResetLocked(id)
	c.control(func(w *http2.Framer) error { return w.WriteRSTStream(id, code) })
}

// closeStreamLocked forgets st: its slot is free and its answer, if any, is not sent.
func (c *h2Conn) closeStreamLocked(st *h2Stream) {
	if !st.closed {
		st.closed = true
		delete(c.streams, st.id)
		if len(c.streams) == 0 {
			c.idleSince = time.Now()
		}
		c.kickLocked() // a draining connection may now be done
	}
}

// rememberResetLocked notes that the server reset stream id, whose late frames are then
// ignored (RFC 9113 §5.1).
func (c *h2Conn) rememberResetLocked(id uint32) {
	c.resets[c.resetNext] = id
	c.resetNext = (c.resetNext + 1) % len(c.resets)
}

func (c *h2Conn) recentlyResetLocked(id uint32) bool {
	for _, r := range c.resets {
		if r == id {
			return true
		}
	}
	return false
}

// control queues a control frame written by write; c.mu must be held.
func (c *h2Conn) control(write func(*http2.Framer) error) {
	n := c.pend.Len()
	write(c.ctl) // writes to a bytes.Buffer: it cannot fail but on a bad argument
	c.queued += c.pend.Len() - n
}

// kick wakes the writer.
func (c *h2Conn) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// kickLocked wakes the writer; c.mu is held (waking does not need it).
func (c *h2Conn) kickLocked() { c.kick() }

// waitRoom waits while the output queued exceeds h2MaxBacklog, and reports false if the
// connection ended meanwhile.
func (c *h2Conn) waitRoom() bool {
	for {
		c.mu.Lock()
		full := c.queued+c.writing > h2MaxBacklog
		gone := c.dead || c.fatal
		c.mu.Unlock()
		switch {
		case gone:
			return false
		case !full:
			return true
		}
		if c.onStall != nil {
			c.onStall()
		}
		c.kick()
		<-c.room
	}
}

// fail ends the connection for a protocol error: GOAWAY with code, then close.
func (c *h2Conn) fail(code http2.ErrCode) {
	c.srv.log.Debug("doh connection protocol error", "remote", c.remote, "code", code)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fatal = true
	if !c.goaway {
		c.goaway, c.goawayCode, c.goawayLast = true, code, c.lastStream
	}
	c.kickLocked()
}

// drain starts a graceful end: GOAWAY NO_ERROR, no new streams, and the connection closes
// once those open are answered. Shutdown calls it from another goroutine.
func (c *h2Conn) drain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.draining = true
	if !c.goaway {
		c.goaway, c.goawayCode, c.goawayLast = true, http2.ErrCodeNo, c.lastStream
	}
	c.kickLocked()
}

// abandon ends the connection at once: the client is gone, nothing more is written.
func (c *h2Conn) abandon() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dead = true
	c.kickLocked()
}

// abandonAfterDrain is for a reader that stopped (a timeout) on a draining connection: the
// streams still receiving their request, and the answers waiting for a WINDOW_UPDATE, can
// never complete, so they are dropped; those being worked on are still answered.
func (c *h2Conn) abandonAfterDrain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.streams {
		if !st.remoteDone {
			c.closeStreamLocked(st)
		}
	}
	for _, st := range c.blocked {
		c.closeStreamLocked(st)
	}
}

// busy reports whether the server owes the client answers it is still working on: a read
// timeout then does not end the connection. A request still arriving, or an answer that
// waits for the client's WINDOW_UPDATE, is the client's delay, not the server's.
func (c *h2Conn) busy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.draining || c.dead || c.fatal {
		return false
	}
	working := false
	for _, st := range c.streams {
		if !st.remoteDone {
			return false
		}
		working = working || st.resp.status == 0
	}
	return working
}

// readDeadline returns when the next read must have data: the first request must come
// within TCPFirstMessageTimeout of the connection's start, and the rest of any request begun
// within TCPFirstMessageTimeout of its last bytes; a connection with no stream open may stay
// idle TCPIdleTimeout after its last one closed.
func (c *h2Conn) readDeadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg := &c.srv.cfg
	if c.lastStream == 0 {
		return c.start.Add(cfg.TCPFirstMessageTimeout)
	}
	if len(c.streams) == 0 {
		return c.idleSince.Add(cfg.TCPIdleTimeout)
	}
	for _, st := range c.streams {
		if !st.remoteDone {
			return time.Now().Add(cfg.TCPFirstMessageTimeout)
		}
	}
	return time.Now().Add(cfg.TCPIdleTimeout)
}

// h2DeadlineReader reads the connection with the deadline of readDeadline. A read that
// times out while the server still owes answers (busy) is retried: the connection is not
// idle, the client is waiting.
type h2DeadlineReader struct{ c *h2Conn }

func (r h2DeadlineReader) Read(p []byte) (int, error) {
	for {
		if err := r.c.nc.SetReadDeadline(r.c.readDeadline()); err != nil {
			return 0, err
		}
		n, err := r.c.nc.Read(p)
		if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) && r.c.busy() {
			continue
		}
		return n, err
	}
}
