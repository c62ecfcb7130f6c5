package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Client is a raw HTTP/2 client for tests: it writes and reads frames itself, so that a
// test controls flow control, stream ids and what it never reads.
type h2Client struct {
	t    testing.TB
	conn net.Conn
	fr   *http2.Framer
	hbuf bytes.Buffer
	enc  *hpack.Encoder
}

// startH2Pipe serves an h2Conn of srv over a net.Pipe and returns the client side, and the
// server's connection. net.Pipe buffers nothing: what the client does not read, the server
// cannot write. The connection is closed, and its end awaited, when the test ends.
func startH2Pipe(t testing.TB, srv *Server) (*h2Client, *h2Conn) {
	t.Helper()
	cs, ss := net.Pipe()
	c := newH2Conn(srv, DefaultDoHPath, ss)
	done := make(chan struct{})
	go func() {
		c.serve()
		close(done)
	}()
	t.Cleanup(func() {
		cs.Close()
		<-done
	})
	cs.SetDeadline(time.Now().Add(testTimeout))
	cl := &h2Client{t: t, conn: cs, fr: http2.NewFramer(cs, cs)}
	cl.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	cl.enc = hpack.NewEncoder(&cl.hbuf)
	return cl, c
}

// preface sends the client preface with settings.
func (cl *h2Client) preface(settings ...http2.Setting) {
	cl.t.Helper()
	if _, err := io.WriteString(cl.conn, http2.ClientPreface); err != nil {
		cl.t.Fatal(err)
	}
	if err := cl.fr.WriteSettings(settings...); err != nil {
		cl.t.Fatal(err)
	}
}

// get sends a GET for q on stream id.
func (cl *h2Client) get(id uint32, q []byte) {
	cl.t.Helper()
	if err := cl.tryGet(id, q); err != nil {
		cl.t.Fatal(err)
	}
}

// tryGet sends a GET for q on stream id, from any goroutine.
func (cl *h2Client) tryGet(id uint32, q []byte) error {
	return cl.headers(id, true, "GET", "/dns-query?dns="+base64.RawURLEncoding.EncodeToString(q))
}

// headers sends a request's HEADERS frame.
func (cl *h2Client) headers(id uint32, end bool, method, path string, extra ...string) error {
	cl.hbuf.Reset()
	fields := append([]string{":method", method, ":scheme", "https", ":authority", "test", ":path", path}, extra...)
	for i := 0; i+1 < len(fields); i += 2 {
		cl.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: cl.hbuf.Bytes(), EndStream: end, EndHeaders: true})
}

// next reads the next frame, skipping the server's SETTINGS and its acknowledgement of
// ours and connection WINDOW_UPDATEs.
func (cl *h2Client) next() http2.Frame {
	cl.t.Helper()
	for {
		f, err := cl.fr.ReadFrame()
		if err != nil {
			cl.t.Fatalf("reading a frame: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			continue
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				continue
			}
		}
		return f
	}
}

// answer reads frames until the answer of stream id is whole, and returns its status and
// body; other streams' frames are an error.
func (cl *h2Client) answer(id uint32) (status string, body []byte) {
	cl.t.Helper()
	for {
		switch f := cl.next().(type) {
		case *http2.MetaHeadersFrame:
			if f.StreamID != id {
				cl.t.Fatalf("HEADERS for stream %d, want %d", f.StreamID, id)
			}
			status = f.PseudoValue("status")
			if f.StreamEnded() {
				return status, body
			}
		case *http2.DataFrame:
			if f.StreamID != id {
				cl.t.Fatalf("DATA for stream %d, want %d", f.StreamID, id)
			}
			body = append(body, f.Data()...)
			if f.StreamEnded() {
				return status, body
			}
		default:
			cl.t.Fatalf("unexpected frame %v while reading stream %d", f.Header(), id)
		}
	}
}

// expectGoAway reads until GOAWAY, checks its code, and then that the connection ends.
func (cl *h2Client) expectGoAway(code http2.ErrCode) {
	cl.t.Helper()
	for {
		f, err := cl.fr.ReadFrame()
		if err != nil {
			cl.t.Fatalf("connection ended without GOAWAY: %v", err)
		}
		if ga, ok := f.(*http2.GoAwayFrame); ok {
			if ga.ErrCode != code {
				cl.t.Fatalf("GOAWAY %v, want %v", ga.ErrCode, code)
			}
			break
		}
	}
	if _, err := cl.fr.ReadFrame(); err == nil || errors.Is(err, http2.ErrFrameTooLarge) {
		cl.t.Fatalf("connection still open after GOAWAY (%v)", err)
	}
}

// bigAnswer answers with a TXT RRset of size bytes or so: larger than one DATA frame and
// than a small flow-control window.
func bigAnswer(size int) dns.HandlerFunc {
	return func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		txt := &dns.TXT{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}}
		for range size / 256 {
			txt.Txt = append(txt.Txt, strings.Repeat("x", 255))
		}
		m.Answer = []dns.RR{txt}
		w.WriteMsg(m)
	}
}

// TestH2FlowControl pins RFC 9113 §6.9 for answers: DATA stays within the client's stream
// window and its connection window, and the rest waits for WINDOW_UPDATE.
func TestH2FlowControl(t *testing.T) {
	t.Parallel()
	t.Run("stream window", func(t *testing.T) {
		t.Parallel()
		cl, _ := startH2Pipe(t, newUnstartedServer(t, Config{}))
		const window = 16
		cl.preface(http2.Setting{ID: http2.SettingInitialWindowSize, Val: window})
		cl.get(1, query(t, 7, "a.test."))
		var body []byte
		for len(body) < window {
			switch f := cl.next().(type) {
			case *http2.MetaHeadersFrame:
				if s := f.PseudoValue("status"); s != "200" || f.StreamEnded() {
					t.Fatalf("HEADERS: status %s, end %v", s, f.StreamEnded())
				}
			case *http2.DataFrame:
				body = append(body, f.Data()...)
				if f.StreamEnded() {
					t.Fatalf("whole answer (%d bytes) sent within a %d-byte window", len(body), window)
				}
			default:
				t.Fatalf("unexpected %v", f.Header())
			}
		}
		if len(body) != window {
			t.Fatalf("%d bytes of DATA sent within a %d-byte window", len(body), window)
		}
		// A PING answered with no DATA before its ACK: the server is waiting.
		cl.fr.WritePing(false, [8]byte{1, 2, 3})
		if f, ok := cl.next().(*http2.PingFrame); !ok || !f.IsAck() || f.Data != [8]byte{1, 2, 3} {
			t.Fatalf("got %v before the PING's ACK", f)
		}
		cl.fr.WriteWindowUpdate(1, 4096)
		_, rest := cl.answer(1)
		checkAnswered(t, unpack(t, append(body, rest...)), 7, "tcp")
	})
	t.Run("connection window", func(t *testing.T) {
		t.Parallel()
		cl, _ := startH2Pipe(t, newUnstartedServer(t, Config{Handler: bigAnswer(40000)}))
		cl.preface(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
		cl.get(1, query(t, 1, "big.test."))
		_, first := cl.answer(1)
		unpack(t, first)
		// The connection window (65535, never raised by the client) has room for the rest.
		cl.get(3, query(t, 3, "big.test."))
		var got int
		for got < 65535-len(first) {
			f, ok := cl.next().(*http2.DataFrame)
			if !ok {
				continue
			}
			got += len(f.Data())
			if f.StreamEnded() {
				t.Fatalf("second answer whole (%d bytes) with %d bytes of connection window", got, 65535-len(first))
			}
		}
		cl.fr.WritePing(false, [8]byte{9})
		if f, ok := cl.next().(*http2.PingFrame); !ok || !f.IsAck() {
			t.Fatalf("got %v before the PING's ACK", f)
		}
		cl.fr.WriteWindowUpdate(0, 1<<20)
		for {
			f, ok := cl.next().(*http2.DataFrame)
			if ok && f.StreamEnded() {
				break
			}
		}
	})
}

// TestH2StreamCap pins SETTINGS_MAX_CONCURRENT_STREAMS (LIMITS.md: 100): with 100 requests
// being answered, the 101st stream is refused with RST_STREAM REFUSED_STREAM; the 100 are
// answered, and a stream opened after them is served.
func TestH2StreamCap(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	blocking := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		<-release
		answerA(w, r)
	})
	srv := newUnstartedServer(t, Config{Handler: blocking})
	if srv.cfg.MaxPipelined != 100 {
		t.Fatalf("default MaxPipelined %d, want LIMITS.md's 100", srv.cfg.MaxPipelined)
	}
	cl, _ := startH2Pipe(t, srv)
	cl.preface()
	for i := range uint32(101) {
		cl.get(2*i+1, query(t, uint16(i), "a.test."))
	}
	f, ok := cl.next().(*http2.RSTStreamFrame)
	if !ok || f.StreamID != 201 || f.ErrCode != http2.ErrCodeRefusedStream {
		t.Fatalf("got %v, want RST_STREAM REFUSED_STREAM for stream 201", f)
	}
	close(release)
	answered := map[uint32]bool{}
	for len(answered) < 100 {
		switch f := cl.next().(type) {
		case *http2.DataFrame:
			if f.StreamEnded() {
				answered[f.StreamID] = true
			}
		case *http2.MetaHeadersFrame:
			if s := f.PseudoValue("status"); s != "200" {
				t.Fatalf("stream %d: status %s", f.StreamID, s)
			}
		default:
			t.Fatalf("unexpected %v", f.Header())
		}
	}
	cl.get(203, query(t, 203, "a.test."))
	if status, body := cl.answer(203); status != "200" {
		t.Fatalf("stream after the cap: %s %q", status, body)
	}
}

// TestH2GoAway pins connection errors (RFC 9113 §5.4.1): garbage gets GOAWAY with the
// error's code, and the connection closes.
func TestH2GoAway(t *testing.T) {
	t.Parallel()
	hdr := func(length int, typ http2.FrameType, flags http2.Flags, stream uint32) []byte {
		return []byte{byte(length >> 16), byte(length >> 8), byte(length), byte(typ), byte(flags),
			byte(stream >> 24), byte(stream >> 16), byte(stream >> 8), byte(stream)}
	}
	for _, tc := range []struct {
		name    string
		preface bool // send the client preface and SETTINGS first
		garbage []byte
		code    http2.ErrCode
	}{
		{"not HTTP/2", false, []byte("GET /dns-query HTTP/1.1\r\nHost: x\r\n\r\n"), http2.ErrCodeProtocol},
		{"first frame not SETTINGS", false, append([]byte(http2.ClientPreface), append(hdr(8, http2.FramePing, 0, 0), make([]byte, 8)...)...), http2.ErrCodeProtocol},
		{"random bytes", true, bytes.Repeat([]byte{0xff}, 64), http2.ErrCodeFrameSize},
		{"DATA on stream 0", true, append(hdr(1, http2.FrameData, 0, 0), 0), http2.ErrCodeProtocol},
		{"HEADERS on an even stream", true, append(hdr(1, http2.FrameHeaders, 0x4|0x1, 2), 0x82), http2.ErrCodeProtocol},
		{"bad HPACK", true, append(hdr(4, http2.FrameHeaders, 0x4|0x1, 1), 0xff, 0xff, 0xff, 0xff), http2.ErrCodeCompression},
		{"connection window overflow", true, append(append(hdr(4, http2.FrameWindowUpdate, 0, 0), 0x7f, 0xff, 0xff, 0xff), append(hdr(4, http2.FrameWindowUpdate, 0, 0), 0x7f, 0xff, 0xff, 0xff)...), http2.ErrCodeFlowControl},
		{"CONTINUATION without HEADERS", true, append(hdr(1, http2.FrameContinuation, 0x4, 1), 0x82), http2.ErrCodeProtocol},
		{"PUSH_PROMISE", true, append(hdr(4, http2.FramePushPromise, 0x4, 1), 0, 0, 0, 2), http2.ErrCodeProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cl, _ := startH2Pipe(t, newUnstartedServer(t, Config{}))
			if tc.preface {
				cl.preface()
			}
			go cl.conn.Write(tc.garbage) // the server may close before reading it all
			cl.expectGoAway(tc.code)
		})
	}
}

// TestH2UnreadAnswers: a client that sends queries and never reads the answers does not
// make the server buffer without bound. Past h2MaxBacklog of queued output the server stops
// reading that connection (the client's writes block), while another connection of the
// same server is served.
func TestH2UnreadAnswers(t *testing.T) {
	t.Parallel()
	srv := newUnstartedServer(t, Config{Logger: slog.New(slog.DiscardHandler)})
	cl, c := startH2Pipe(t, srv)
	stalled := make(chan struct{})
	c.onStall = func() {
		select {
		case stalled <- struct{}{}:
		default:
		}
	}
	cl.preface()
	if f, err := cl.fr.ReadFrame(); err != nil {
		t.Fatal(err)
	} else if _, ok := f.(*http2.SettingsFrame); !ok {
		t.Fatalf("first frame %v, want SETTINGS", f.Header())
	}
	// The client now only writes: far more queries than h2MaxBacklog has room for answers.
	const queries = 20000
	q := query(t, 1, "a.test.")
	sent := make(chan int, 1)
	go func() {
		n := 0
		for id := uint32(1); n < queries && cl.tryGet(id, q) == nil; id += 2 {
			n++
		}
		sent <- n
	}()
	select {
	case <-stalled:
	case <-time.After(testTimeout):
		t.Fatal("the server kept reading a client that reads nothing")
	}
	c.mu.Lock()
	backlog, ready := c.queued+c.writing, len(c.ready)
	c.mu.Unlock()
	// What is queued is the backlog bound, plus the answers of the streams that were
	// being worked on when it was reached.
	if limit := h2MaxBacklog + c.maxStreams*(h2HeaderCost+200); backlog > limit {
		t.Errorf("connection queued %d bytes (%d answers), over %d", backlog, ready, limit)
	}

	other, _ := startH2Pipe(t, srv)
	other.preface()
	other.get(1, query(t, 1, "b.test."))
	if status, body := other.answer(1); status != "200" {
		t.Fatalf("other connection: %s %q", status, body)
	} else {
		checkAnswered(t, unpack(t, body), 1, "tcp")
	}
	select {
	case n := <-sent:
		t.Fatalf("the server read all %d queries of a client that reads nothing", n)
	default:
	}
}

// FuzzH2Conn feeds arbitrary bytes to an HTTP/2 connection after the client preface and
// SETTINGS: it must not panic, must end when the client does, and must never queue more
// output than its bound.
func FuzzH2Conn(f *testing.F) {
	var seed bytes.Buffer
	fr := http2.NewFramer(&seed, nil)
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, kv := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":path", "/dns-query?dns=AAABAAABAAAAAAAAAWEEdGVzdAAAAQAB"}} {
		enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	fr.WritePing(false, [8]byte{1})
	fr.WriteWindowUpdate(0, 1000)
	fr.WriteRSTStream(1, http2.ErrCodeCancel)
	f.Add(seed.Bytes())
	seed.Reset()
	hb.Reset()
	for _, kv := range [][2]string{{":method", "POST"}, {":scheme", "https"}, {":path", "/dns-query"}, {"content-type", "application/dns-message"}} {
		enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: hb.Bytes(), EndHeaders: true})
	fr.WriteData(3, true, []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1})
	f.Add(seed.Bytes())
	f.Add([]byte{0, 0, 0, 4, 1, 0, 0, 0, 0})
	f.Add(bytes.Repeat([]byte{0}, 90))

	srv, err := New(Config{Handler: answerA, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		cs, ss := net.Pipe()
		c := newH2Conn(srv, DefaultDoHPath, ss)
		peak := 0 // written under c.mu, read after the connection ended
		c.onBatch = func(queued int) { peak = max(peak, queued) }
		done := make(chan struct{})
		go func() {
			c.serve()
			close(done)
		}()
		go io.Copy(io.Discard, cs)
		cs.SetDeadline(time.Now().Add(testTimeout))
		cs.Write([]byte(http2.ClientPreface + "\x00\x00\x00\x04\x00\x00\x00\x00\x00"))
		cs.Write(in)
		cs.Close()
		select {
		case <-done:
		case <-time.After(testTimeout):
			t.Fatal("the connection did not end after its client closed")
		}
		if limit := h2MaxBacklog + c.maxStreams*(h2HeaderCost+200) + h2MaxFrameSize; peak > limit {
			t.Fatalf("%d bytes of output queued, over %d", peak, limit)
		}
	})
}

// TestH2Shutdown: Shutdown sends GOAWAY NO_ERROR on an HTTP/2 DoH connection over TLS, the
// query in flight is still answered, then the connection closes and Shutdown returns.
func TestH2Shutdown(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	blocking := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		close(entered)
		<-release
		answerA(w, r)
	})
	srv := newUnstartedServer(t, Config{Handler: blocking})
	tc, pool := testCerts(t)
	a, err := srv.ListenHTTPS("127.0.0.1:0", "", tc)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", a.String(), &tls.Config{RootCAs: pool, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testTimeout))
	cl := &h2Client{t: t, conn: conn, fr: http2.NewFramer(conn, conn)}
	cl.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	cl.enc = hpack.NewEncoder(&cl.hbuf)
	cl.preface()
	cl.get(1, query(t, 5, "a.test."))
	<-entered
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		stopped <- srv.Shutdown(ctx)
	}()
	if f, ok := cl.next().(*http2.GoAwayFrame); !ok || f.ErrCode != http2.ErrCodeNo || f.LastStreamID != 1 {
		t.Fatalf("got %v, want GOAWAY NO_ERROR, last stream 1", f)
	}
	close(release)
	status, body := cl.answer(1)
	if status != "200" {
		t.Fatalf("in-flight query: %s", status)
	}
	checkAnswered(t, unpack(t, body), 5, "tcp")
	if _, err := cl.fr.ReadFrame(); err == nil {
		t.Fatal("connection still open after its last answer")
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestH2Timeouts: a connection whose first request does not come within
// TCPFirstMessageTimeout, and one idle for TCPIdleTimeout after its last answer, get
// GOAWAY NO_ERROR and are closed.
func TestH2Timeouts(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	cfg := Config{TCPFirstMessageTimeout: timeout, TCPIdleTimeout: timeout}
	t.Run("no request", func(t *testing.T) {
		t.Parallel()
		cl, _ := startH2Pipe(t, newUnstartedServer(t, cfg))
		cl.preface()
		cl.expectGoAway(http2.ErrCodeNo)
	})
	t.Run("idle", func(t *testing.T) {
		t.Parallel()
		cl, _ := startH2Pipe(t, newUnstartedServer(t, cfg))
		cl.preface()
		cl.get(1, query(t, 1, "a.test."))
		if status, _ := cl.answer(1); status != "200" {
			t.Fatalf("status %s", status)
		}
		cl.expectGoAway(http2.ErrCodeNo)
	})
	t.Run("window never opened", func(t *testing.T) {
		t.Parallel()
		cl, _ := startH2Pipe(t, newUnstartedServer(t, cfg))
		cl.preface(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1})
		cl.get(1, query(t, 1, "a.test."))
		cl.expectGoAway(http2.ErrCodeNo)
	})
	t.Run("request never finished", func(t *testing.T) {
		t.Parallel()
		cl, _ := startH2Pipe(t, newUnstartedServer(t, cfg))
		cl.preface()
		if err := cl.headers(1, false, "POST", "/dns-query", "content-type", dohContentType); err != nil {
			t.Fatal(err)
		}
		cl.expectGoAway(http2.ErrCodeNo)
	})
}

// TestH2ServerPreface: the server sends its SETTINGS first, without waiting for the client
// (RFC 9113 §3.4), announcing the stream cap and the stream window of LIMITS.md.
func TestH2ServerPreface(t *testing.T) {
	t.Parallel()
	// Timeouts beyond the test's own: only the preface itself can make the server write.
	cl, _ := startH2Pipe(t, newUnstartedServer(t, Config{TCPFirstMessageTimeout: 2 * testTimeout}))
	f, err := cl.fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		t.Fatalf("first frame %v, want SETTINGS", f.Header())
	}
	want := map[http2.SettingID]uint32{
		http2.SettingMaxConcurrentStreams: 100,
		http2.SettingInitialWindowSize:    65536,
		http2.SettingMaxHeaderListSize:    dohMaxHeaderBytes,
	}
	for id, v := range want {
		if got, ok := sf.Value(id); !ok || got != v {
			t.Errorf("%v = %d (%v), want %d", id, got, ok, v)
		}
	}
}

// TestH2Requests pins request handling that net/http's client never shows: bodies in
// several DATA frames, trailers, header blocks continued in CONTINUATION, bodies over the
// limit without content-length, and malformed requests (RFC 9113 §8.1.1).
func TestH2Requests(t *testing.T) {
	t.Parallel()
	q := query(t, 9, "a.test.")
	post := []string{"content-type", dohContentType}
	t.Run("body in pieces", func(t *testing.T) {
		t.Parallel()
		cl, _ := startH2Pipe(t, newUnstartedServer(t, Config{}))
		cl.preface()
		cl.headers(1, false, "POST", "/dns-query", post...)
		cl.fr.WriteData(1, false, q[:5])
		cl.fr.WriteDataPadded(1, false, q[5:10], make([]byte, 7))
		cl.fr.WriteData(1, true, q[10:])
		status, body := cl.answer(1)
		if status != "200" {
			t.Fatalf("status %s: %q", status, body)
		}
		checkAnswered(t, unpack(t, body), 9, "tcp")
	})
	t.Run("trailers end the request", func(t *testing.T) {
		t.Parallel()
		cl, _ := startH2Pipe(t, newUnstartedServer(t, Config{}))
		cl.preface()
		cl.headers(1, false, "POST", "/dns-query", post...)
		cl.fr.WriteData(1, false, q)
		cl.hbuf.Reset()
		cl.enc.WriteField(hpack.HeaderField{Name: "x-trailer", Value: "1"})
		cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: cl.hbuf.Bytes(), EndStream: true, EndHeaders: true})
		if status, body := cl.answer(1); status != "200" {
			t.Fatalf("status %s: %q", status, body)
		}
	})
	t.Run("CONTINUATION", func(t *testing.T) {
		t.Parallel()
		cl, _ := startH2Pipe(t, newUnstartedServer(t, Config{}))
		cl.preface()
		cl.hbuf.Reset()
		for _, kv := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":path", "/dns-query?dns=" + base64.RawURLEncoding.EncodeToString(q)}} {
			cl.enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
		}
		block := cl.hbuf.Bytes()
		cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:3], EndStream: true})
		cl.fr.WriteContinuation(1, false, block[3:10])
		cl.fr.WriteContinuation(1, true, block[10:])
		if status, body := cl.answer(1); status != "200" {
			t.Fatalf("status %s: %q", status, body)
		}
	})
	t.Run("body over 65535 bytes", func(t *testing.T) {
		t.Parallel()
		cl, _ := startH2Pipe(t, newUnstartedServer(t, Config{}))
		cl.preface()
		cl.headers(1, false, "POST", "/dns-query", post...)
		chunk := make([]byte, 16384)
		for range 4 {
			cl.fr.WriteData(1, false, chunk)
		}
		if status, _ := cl.answer(1); status != "413" {
			t.Fatalf("status %s, want 413", status)
		}
		if f, ok := cl.next().(*http2.RSTStreamFrame); !ok || f.ErrCode != http2.ErrCodeNo {
			t.Fatalf("got %v, want RST_STREAM NO_ERROR after an early answer", f)
		}
	})
	for _, tc := range []struct {
		name string
		send func(cl *h2Client)
	}{
		{"no :path", func(cl *h2Client) {
			cl.hbuf.Reset()
			cl.enc.WriteField(hpack.HeaderField{Name: ":method", Value: "GET"})
			cl.enc.WriteField(hpack.HeaderField{Name: ":scheme", Value: "https"})
			cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: cl.hbuf.Bytes(), EndStream: true, EndHeaders: true})
		}},
		{"connection header", func(cl *h2Client) {
			cl.headers(1, true, "GET", "/dns-query?dns="+base64.RawURLEncoding.EncodeToString(q), "connection", "close")
		}},
		{"body shorter than content-length", func(cl *h2Client) {
			cl.headers(1, false, "POST", "/dns-query", append(post, "content-length", "100")...)
			cl.fr.WriteData(1, true, q)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cl, _ := startH2Pipe(t, newUnstartedServer(t, Config{}))
			cl.preface()
			tc.send(cl)
			if f, ok := cl.next().(*http2.RSTStreamFrame); !ok || f.StreamID != 1 || f.ErrCode != http2.ErrCodeProtocol {
				t.Fatalf("got %v, want RST_STREAM PROTOCOL_ERROR", f)
			}
			// The connection goes on.
			cl.get(3, q)
			if status, _ := cl.answer(3); status != "200" {
				t.Fatalf("next stream: status %s", status)
			}
		})
	}
}

// TestH2ClientReset: a stream the client resets while its query is being answered gets no
// answer, and frees its stream slot at once. (Its worker is busy until the Handler returns:
// with MaxPipelined 1, the next query waits for it.)
func TestH2ClientReset(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}, 1), make(chan struct{})
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if r.Question[0].Name == "slow.test." {
			entered <- struct{}{}
			<-release
		}
		answerA(w, r)
	})
	cl, c := startH2Pipe(t, newUnstartedServer(t, Config{Handler: handler, MaxPipelined: 1}))
	cl.preface()
	cl.get(1, query(t, 1, "slow.test."))
	<-entered
	cl.fr.WriteRSTStream(1, http2.ErrCodeCancel)
	cl.fr.WritePing(false, [8]byte{6}) // its ACK comes once the reset is taken
	if f, ok := cl.next().(*http2.PingFrame); !ok || !f.IsAck() {
		t.Fatalf("got %v, want the PING's ACK", f)
	}
	cl.get(3, query(t, 3, "a.test.")) // refused, over the cap of 1, unless the reset freed the slot
	close(release)
	if status, _ := cl.answer(3); status != "200" {
		t.Fatalf("stream after a reset: status %s", status)
	}
	cl.fr.WritePing(false, [8]byte{7})
	for {
		switch f := cl.next().(type) {
		case *http2.PingFrame:
			c.mu.Lock()
			open := len(c.streams)
			c.mu.Unlock()
			if open != 0 {
				t.Fatalf("%d streams open", open)
			}
			return
		default:
			t.Fatalf("got %v for a reset stream", f.Header())
		}
	}
}
