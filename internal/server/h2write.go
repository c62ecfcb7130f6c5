package server

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Response is the answer to one stream.
type h2Response struct {
	status int
	body   []byte
	dns    bool   // body is a DNS message (else a text/plain error)
	maxAge uint32 // the Cache-Control lifetime of a DNS message

	sent int // bytes of body sent in DATA frames
}

// h2HeaderCost is what an answer's HEADERS frame is counted as in the backlog.
const h2HeaderCost = 64

// respond queues st's answer for the writer, unless the stream was reset meanwhile.
func (c *h2Conn) respond(st *h2Stream, r h2Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.closed || c.dead {
		return
	}
	st.resp = r
	st.queuedCost = len(r.body) + h2HeaderCost
	c.queued += st.queuedCost
	c.ready = append(c.ready, st)
	c.kickLocked()
}

// h2Writer is the writing goroutine's own state.
type h2Writer struct {
	c    *h2Conn
	out  bytes.Buffer  // the next write
	fr   *http2.Framer // writes frames into out
	hbuf bytes.Buffer  // one header block
	enc  *hpack.Encoder
	date string // the Date field of this batch's answers
	// cuts are the ends, in out, of the answers of this batch: each goes in a TLS record of
	// its own (see flush).
	cuts []int
}

// writeLoop writes what the connection queues until the connection ends.
func (c *h2Conn) writeLoop() {
	defer close(c.writerDone)
	w := &h2Writer{c: c}
	w.fr = http2.NewFramer(&w.out, nil)
	w.enc = hpack.NewEncoder(&w.hbuf)
	for {
		<-c.wake
		// Let the workers and the reader that are about to queue more answers do so
		// first, so that one write carries them all (gRPC's writer does the same).
		runtime.Gosched()
		for {
			more, exit := w.collect()
			if w.out.Len() > 0 && !w.flush() {
				return
			}
			if exit {
				c.closeWrite()
				return
			}
			if !more {
				break
			}
		}
	}
}

// collect encodes into w.out, under the lock, what is queued and may be sent now, up to
// h2WriteBatch bytes. more reports that queued output was left for another write; exit
// that the connection is done once w.out is written.
func (w *h2Writer) collect() (more, exit bool) {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return false, true
	}
	if c.onBatch != nil {
		c.onBatch(c.queued)
	}
	w.date = ""
	if c.tableChanged {
		w.enc.SetMaxDynamicTableSize(c.peerTableSize)
		c.tableChanged = false
	}
	w.out.Write(c.pend.Bytes())
	c.queued -= c.pend.Len()
	c.pend.Reset()
	if c.credit > 0 {
		w.fr.WriteWindowUpdate(0, c.credit)
		c.credit = 0
	}
	w.cut()
	c.blocked = w.sendBlocked(c.blocked)
	n := 0
	for ; n < len(c.ready) && w.out.Len() < h2WriteBatch; n++ {
		st := c.ready[n]
		c.queued -= st.queuedCost
		if !st.closed {
			w.send(st)
			w.cut()
		}
	}
	left := copy(c.ready, c.ready[n:])
	clear(c.ready[left:])
	c.ready = c.ready[:left]
	if c.goaway && !c.goawaySent {
		w.fr.WriteGoAway(c.goawayLast, c.goawayCode, nil)
		c.goawaySent = true
	}
	c.writing = w.out.Len()
	done := c.fatal || (c.draining && len(c.streams) == 0 && len(c.ready) == 0 && c.pend.Len() == 0)
	return len(c.ready) > 0, done && c.goawaySent
}

// sendBlocked sends what the windows now allow of the answers waiting for them, and
// returns those still waiting.
func (w *h2Writer) sendBlocked(blocked []*h2Stream) []*h2Stream {
	still := blocked[:0]
	for _, st := range blocked {
		if !st.closed && !w.sendData(st) {
			still = append(still, st)
		}
		w.cut()
	}
	clear(blocked[len(still):])
	return still
}

// send encodes st's answer: HEADERS, then DATA as the windows allow; an answer that does
// not fit waits in c.blocked for WINDOW_UPDATE.
func (w *h2Writer) send(st *h2Stream) {
	r := &st.resp
	w.writeHeaders(st.id, r)
	if len(r.body) == 0 {
		w.finish(st)
		return
	}
	if !w.sendData(st) {
		w.c.blocked = append(w.c.blocked, st)
	}
}

// sendData writes as much of st's body as the connection's and the stream's send windows
// and the client's frame size allow, and reports whether it is all sent.
func (w *h2Writer) sendData(st *h2Stream) bool {
	c, r := w.c, &st.resp
	for r.sent < len(r.body) {
		n := int64(len(r.body) - r.sent)
		n = min(n, c.sendWindow, c.peerInitWindow+st.sendWindow, int64(c.peerMaxFrame))
		if n <= 0 {
			return false
		}
		end := r.sent+int(n) == len(r.body)
		w.fr.WriteData(st.id, end, r.body[r.sent:r.sent+int(n)])
		r.sent += int(n)
		c.sendWindow -= n
		st.sendWindow -= n
	}
	w.finish(st)
	return true
}

// finish closes st once its END_STREAM is written; if the client has not ended its side
// (an answer given before the whole request came), RST_STREAM NO_ERROR tells it to stop
// sending (RFC 9113 §8.1).
func (w *h2Writer) finish(st *h2Stream) {
	c := w.c
	c.closeStreamLocked(st)
	if !st.remoteDone {
		c.rememberResetLocked(st.id)
		w.fr.WriteRSTStream(st.id, http2.ErrCodeNo)
	}
	st.resp.body = nil
}

// writeHeaders encodes the answer's header block and writes it as HEADERS and, if it
// exceeds the client's frame size, CONTINUATION frames.
func (w *h2Writer) writeHeaders(id uint32, r *h2Response) {
	w.hbuf.Reset()
	w.field(":status", statusText(r.status))
	if r.dns {
		w.field("content-type", dohContentType)
		w.field("cache-control", "max-age="+strconv.FormatUint(uint64(r.maxAge), 10))
	} else {
		w.field("content-type", "text/plain; charset=utf-8")
		w.field("x-content-type-options", "nosniff")
		if r.status == http.StatusMethodNotAllowed {
			w.field("allow", "GET, POST")
		}
	}
	w.field("content-length", strconv.Itoa(len(r.body)))
	if w.date == "" {
		w.date = time.Now().UTC().Format(http.TimeFormat)
	}
	w.field("date", w.date)
	block := w.hbuf.Bytes()
	max := int(w.c.peerMaxFrame)
	first := block[:min(len(block), max)]
	w.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID:      id,
		BlockFragment: first,
		EndStream:     len(r.body) == 0,
		EndHeaders:    len(first) == len(block),
	})
	for rest := block[len(first):]; len(rest) > 0; {
		frag := rest[:min(len(rest), max)]
		rest = rest[len(frag):]
		w.fr.WriteContinuation(id, len(rest) == 0, frag)
	}
}

func (w *h2Writer) field(name, value string) {
	w.enc.WriteField(hpack.HeaderField{Name: name, Value: value})
}

// statusText returns the decimal form of an HTTP status.
func statusText(status int) string {
	if status == http.StatusOK {
		return "200"
	}
	return strconv.Itoa(status)
}

// cut ends the current TLS record of the batch in w.out.
func (w *h2Writer) cut() {
	if n := w.out.Len(); n > 0 && (len(w.cuts) == 0 || w.cuts[len(w.cuts)-1] != n) {
		w.cuts = append(w.cuts, n)
	}
}

// flush writes w.out to the connection within tcpWriteTimeout, and reports whether it
// could; a write that fails ends the connection.
//
// Over TLS each answer goes in a record of its own, and all the records in one write to
// the socket: the system call is shared, and a client that reads records one at a time
// and expects one answer in each (dnsperf 2.10's DoH, which drops the DATA of a second
// answer met in one read) still gets them all.
func (w *h2Writer) flush() bool {
	c := w.c
	w.cut()
	err := c.nc.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	if err == nil {
		err = w.write()
	}
	w.out.Reset()
	w.cuts = w.cuts[:0]
	if w.out.Cap() > 4*h2WriteBatch {
		w.out = bytes.Buffer{} // a large answer is gone: do not keep its buffer
	}
	c.mu.Lock()
	c.writing = 0
	if err != nil {
		c.dead = true
	}
	c.mu.Unlock()
	c.signalRoom()
	if err != nil {
		c.srv.log.Debug("doh write failed", "remote", c.remote, "err", err)
		closeRaw(c.nc)
		return false
	}
	return true
}

// write sends w.out: record by record into one batch over TLS on a listener's connection,
// at once otherwise.
func (w *h2Writer) write() error {
	b := w.out.Bytes()
	tc, ok := w.c.nc.(*tls.Conn)
	if !ok {
		_, err := w.c.nc.Write(b)
		return err
	}
	raw, ok := tc.NetConn().(*countedConn)
	if !ok {
		_, err := tc.Write(b)
		return err
	}
	raw.startBatch()
	start := 0
	for _, end := range w.cuts {
		if _, err := tc.Write(b[start:end]); err != nil {
			raw.endBatch()
			return err
		}
		start = end
	}
	return raw.endBatch()
}

// closeWrite ends a connection whose last output (its GOAWAY) is written.
func (c *h2Conn) closeWrite() {
	c.mu.Lock()
	c.dead = true
	c.mu.Unlock()
	c.signalRoom()
	c.nc.Close() // the reader sees the end
}

// signalRoom tells a reader waiting in waitRoom to look again.
func (c *h2Conn) signalRoom() {
	select {
	case c.room <- struct{}{}:
	default:
	}
}
