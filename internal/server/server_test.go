package server

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testTimeout bounds every network wait in the tests, so that a broken server fails a test
// instead of hanging it. Nothing waits for it to pass.
const testTimeout = 10 * time.Second

// answerA answers every query with an A record 192.0.2.1 for its name and the transport in
// a TXT record, the way a handler sees it through Network().
var answerA = dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	if len(r.Question) == 1 {
		name := r.Question[0].Name
		m.Answer = append(m.Answer,
			&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)},
			&dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{networkOf(w)}})
	}
	w.WriteMsg(m)
})

// networkOf reports the transport the way handlers are meant to find it.
func networkOf(w dns.ResponseWriter) string {
	if n, ok := w.(interface{ Network() string }); ok {
		return n.Network()
	}
	return "unknown"
}

// testLogger logs to the test's output, shown only when the test fails or runs with -v.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newUnstartedServer returns a Server for cfg (answerA by default, a test logger), not
// listening and not shut down by the test: for tests that drive a connection themselves.
func newUnstartedServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Handler == nil {
		cfg.Handler = answerA
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// startServer starts a Server for cfg on 127.0.0.1:0 over UDP and TCP and shuts it down
// when the test ends. A nil Handler becomes answerA.
func startServer(t testing.TB, cfg Config) (srv *Server, udpAddr, tcpAddr string) {
	t.Helper()
	srv = newTestServer(t, cfg)
	udp, tcp, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return srv, udp.String(), tcp.String()
}

// query returns a packed query for name and type A with the given ID.
func query(t testing.TB, id uint16, name string) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.Id = id
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dial connects to addr over network ("udp" or "tcp") with a testTimeout deadline.
func dial(t testing.TB, network, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(testTimeout))
	t.Cleanup(func() { c.Close() })
	return c
}

// readUDP reads one datagram from c and unpacks it.
func readUDP(t testing.TB, c net.Conn) *dns.Msg {
	t.Helper()
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("reading reply: %v", err)
	}
	return unpack(t, buf[:n])
}

func unpack(t testing.TB, b []byte) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatalf("unpacking reply: %v", err)
	}
	return m
}

// writeTCP writes msgs to c, each with its length prefix, in one write.
func writeTCP(t testing.TB, c net.Conn, msgs ...[]byte) {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
		b = append(b, m...)
	}
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// readTCP reads one length-prefixed message from c; it returns nil at end of file.
func readTCP(t testing.TB, c net.Conn) []byte {
	t.Helper()
	var prefix [2]byte
	if _, err := io.ReadFull(c, prefix[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		t.Fatalf("reading reply length: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(prefix[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading reply: %v", err)
	}
	return b
}

// expectClosed fails unless the server has closed c: reading gets end of file, or a
// reset if the client's last bytes arrived after the close.
func expectClosed(t testing.TB, c net.Conn) {
	t.Helper()
	var prefix [2]byte
	_, err := io.ReadFull(c, prefix[:])
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
	case err == nil:
		t.Fatalf("want the connection closed, got a reply of %d bytes", binary.BigEndian.Uint16(prefix[:]))
	default:
		t.Fatalf("want the connection closed, got %v", err)
	}
}

// readAllTCP half-closes c and reads every reply until the server closes the connection.
func readAllTCP(t testing.TB, c net.Conn) []*dns.Msg {
	t.Helper()
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var replies []*dns.Msg
	for b := readTCP(t, c); b != nil; b = readTCP(t, c) {
		replies = append(replies, unpack(t, b))
	}
	return replies
}

// checkAnswered fails unless m is a NOERROR reply with the given ID over network.
func checkAnswered(t testing.TB, m *dns.Msg, id uint16, network string) {
	t.Helper()
	if m.Id != id || !m.Response || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 2 {
		t.Fatalf("want a NOERROR reply with ID %d and 2 answers, got:\n%v", id, m)
	}
	if got := m.Answer[1].(*dns.TXT).Txt[0]; got != network {
		t.Errorf("handler saw network %q, want %q", got, network)
	}
}

// canaryUDP checks that a fresh UDP client still gets an answer.
func canaryUDP(t testing.TB, addr string) {
	t.Helper()
	c := dial(t, "udp", addr)
	c.Write(query(t, 4242, "canary.test."))
	checkAnswered(t, readUDP(t, c), 4242, "udp")
}

// canaryTCP checks that a fresh TCP connection still gets an answer.
func canaryTCP(t testing.TB, addr string) {
	t.Helper()
	c := dial(t, "tcp", addr)
	writeTCP(t, c, query(t, 4242, "canary.test."))
	checkAnswered(t, unpack(t, readTCP(t, c)), 4242, "tcp")
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"no handler":         {},
		"negative conns":     {Handler: answerA, MaxTCPConns: -1},
		"negative first":     {Handler: answerA, TCPFirstMessageTimeout: -time.Second},
		"negative idle":      {Handler: answerA, TCPIdleTimeout: -time.Second},
		"negative pipelined": {Handler: answerA, MaxPipelined: -1},
		"negative sockets":   {Handler: answerA, UDPSockets: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
	srv, err := New(Config{Handler: answerA})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.cfg
	if got.MaxTCPConns != DefaultMaxTCPConns || got.TCPFirstMessageTimeout != DefaultTCPFirstMessageTimeout ||
		got.TCPIdleTimeout != DefaultTCPIdleTimeout || got.MaxPipelined != DefaultMaxPipelined ||
		got.UDPSockets < 1 || got.Logger == nil {
		t.Errorf("defaults not filled in: %+v", got)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	_, udpAddr, tcpAddr := startServer(t, Config{})
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			t.Parallel()
			addr := map[string]string{"udp": udpAddr, "tcp": tcpAddr}[network]
			m := new(dns.Msg)
			m.SetQuestion("www.example.test.", dns.TypeA)
			c := dns.Client{Net: network, Timeout: testTimeout}
			reply, _, err := c.Exchange(m, addr)
			if err != nil {
				t.Fatal(err)
			}
			checkAnswered(t, reply, m.Id, network)
		})
	}
}

func TestListenPicksOnePortForBoth(t *testing.T) {
	t.Parallel()
	_, udpAddr, tcpAddr := startServer(t, Config{})
	_, udpPort, _ := net.SplitHostPort(udpAddr)
	_, tcpPort, _ := net.SplitHostPort(tcpAddr)
	if udpPort != tcpPort {
		t.Errorf("UDP port %s, TCP port %s: want the same", udpPort, tcpPort)
	}
}

func TestListenSeparately(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{Handler: answerA, Logger: testLogger(t), UDPSockets: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	var addrs []string
	for range 2 {
		udp, err := srv.ListenUDP("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tcp, err := srv.ListenTCP("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, udp.String(), tcp.String())
	}
	for i, addr := range addrs {
		if i%2 == 0 {
			canaryUDP(t, addr)
		} else {
			canaryTCP(t, addr)
		}
	}
}

func TestHandlerPanicGetsServfail(t *testing.T) {
	t.Parallel()
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if r.Question[0].Name == "panic.test." {
			panic("handler bug")
		}
		answerA(w, r)
	})
	_, udpAddr, tcpAddr := startServer(t, Config{Handler: handler})

	u := dial(t, "udp", udpAddr)
	u.Write(query(t, 7, "panic.test."))
	checkServfail(t, readUDP(t, u), 7)
	canaryUDP(t, udpAddr)

	c := dial(t, "tcp", tcpAddr)
	writeTCP(t, c, query(t, 8, "panic.test."))
	checkServfail(t, unpack(t, readTCP(t, c)), 8)
	writeTCP(t, c, query(t, 9, "canary.test."))
	checkAnswered(t, unpack(t, readTCP(t, c)), 9, "tcp")
}

func checkServfail(t *testing.T, m *dns.Msg, id uint16) {
	t.Helper()
	if m.Id != id || m.Rcode != dns.RcodeServerFailure || len(m.Question) != 1 || m.Question[0].Name != "panic.test." {
		t.Fatalf("want SERVFAIL with ID %d and the question, got:\n%v", id, m)
	}
}

func TestRawHandler(t *testing.T) {
	t.Parallel()
	// The raw handler answers fast.test. by patching a precompiled reply's ID, and leaves
	// every other query to Handler.
	precompiled := new(dns.Msg)
	precompiled.SetQuestion("fast.test.", dns.TypeA)
	precompiled.Response, precompiled.Rcode = true, dns.RcodeNameError
	wire, err := precompiled.Pack()
	if err != nil {
		t.Fatal(err)
	}
	fastQuery := query(t, 0, "fast.test.")
	raw := func(q []byte, network string, remote net.Addr, out []byte) ([]byte, bool) {
		if len(q) != len(fastQuery) || string(q[2:]) != string(fastQuery[2:]) {
			return nil, false
		}
		out = append(out[:0], wire...)
		copy(out, q[:2])
		return out, true
	}
	_, udpAddr, tcpAddr := startServer(t, Config{RawHandler: raw})

	u := dial(t, "udp", udpAddr)
	u.Write(query(t, 11, "fast.test."))
	if m := readUDP(t, u); m.Id != 11 || m.Rcode != dns.RcodeNameError {
		t.Errorf("UDP: want the precompiled NXDOMAIN with ID 11, got:\n%v", m)
	}
	canaryUDP(t, udpAddr)

	c := dial(t, "tcp", tcpAddr)
	writeTCP(t, c, query(t, 12, "fast.test."))
	if m := unpack(t, readTCP(t, c)); m.Id != 12 || m.Rcode != dns.RcodeNameError {
		t.Errorf("TCP: want the precompiled NXDOMAIN with ID 12, got:\n%v", m)
	}
	canaryTCP(t, tcpAddr)
}

func TestResponseWriter(t *testing.T) {
	t.Parallel()
	type seen struct {
		network       string
		local, remote string
		tsig          error
		secondWrite   error
	}
	got := make(chan seen, 2)
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		w.WriteMsg(m)
		got <- seen{networkOf(w), w.LocalAddr().String(), w.RemoteAddr().String(), w.TsigStatus(), w.WriteMsg(m)}
	})
	_, udpAddr, tcpAddr := startServer(t, Config{Handler: handler})
	signed := new(dns.Msg)
	signed.SetQuestion("signed.test.", dns.TypeSOA)
	signed.SetTsig("key.test.", dns.HmacSHA256, 300, time.Now().Unix())
	for _, tc := range []struct{ network, addr string }{{"udp", udpAddr}, {"tcp", tcpAddr}} {
		c := dns.Client{Net: tc.network, Timeout: testTimeout}
		conn, err := c.Dial(tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.TsigSecret = map[string]string{"key.test.": "c2VjcmV0"}
		if err := conn.WriteMsg(signed.Copy()); err != nil {
			t.Fatalf("%s: %v", tc.network, err)
		}
		s := <-got
		conn.Close()
		if s.network != tc.network || s.local != tc.addr || s.remote != conn.LocalAddr().String() {
			t.Errorf("%s: writer says network %q, local %s, remote %s; want %s, %s, %s", tc.network,
				s.network, s.local, s.remote, tc.network, tc.addr, conn.LocalAddr())
		}
		if !errors.Is(s.tsig, ErrTSIGNotVerified) {
			t.Errorf("%s: TsigStatus of a signed query = %v, want ErrTSIGNotVerified", tc.network, s.tsig)
		}
		if tc.network == "udp" && !errors.Is(s.secondWrite, errAlreadyReplied) {
			t.Errorf("udp: a second reply to one query gave %v, want errAlreadyReplied", s.secondWrite)
		}
		if tc.network == "tcp" && s.secondWrite != nil {
			t.Errorf("tcp: a second reply (as in a zone transfer) failed: %v", s.secondWrite)
		}
	}
}

// BenchmarkUDP measures queries per second through loopback UDP with a trivial handler,
// clients and server sharing the machine's cores.
func BenchmarkUDP(b *testing.B) {
	trivial := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		w.WriteMsg(m)
	})
	_, udpAddr, _ := startServer(b, Config{Handler: trivial, Logger: slog.New(slog.DiscardHandler)})
	q := query(b, 1, "bench.test.")
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("udp", udpAddr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		buf := make([]byte, 512)
		for pb.Next() {
			c.SetReadDeadline(time.Now().Add(time.Second))
			c.Write(q)
			if _, err := c.Read(buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "qps")
}

// BenchmarkServePacket measures the server's own work for one datagram, without the
// network: unpack, Handler, pack (Handler path), or the raw fast path.
func BenchmarkServePacket(b *testing.B) {
	trivial := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		w.WriteMsg(m)
	})
	q := query(b, 1, "bench.test.")
	raw := func(q []byte, _ string, _ net.Addr, out []byte) ([]byte, bool) {
		out = append(out[:0], q...)
		out[2] |= qrBit
		return out, true
	}
	for name, cfg := range map[string]Config{
		"handler": {Handler: trivial},
		"raw":     {Handler: trivial, RawHandler: raw},
	} {
		b.Run(name, func(b *testing.B) {
			cfg.Logger = slog.New(slog.DiscardHandler)
			srv, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			slot := newTestSlot()
			remote := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5300}
			b.ReportAllocs()
			for b.Loop() {
				if srv.servePacket(slot, q, remote) == nil {
					b.Fatal("no reply")
				}
			}
		})
	}
}

// newTestSlot returns a UDP batch slot as a worker's batch holds it.
func newTestSlot() *udpSlot {
	slot := new(udpSlot)
	slot.init(slot, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}, make([]byte, udpReplyBuf))
	return slot
}
