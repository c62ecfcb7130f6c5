package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// newTestServer returns a Server for cfg (answerA by default) that shuts down when the test
// ends.
func newTestServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	srv := newUnstartedServer(t, cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv
}

// startDoT serves DoT for cfg on 127.0.0.1:0 and returns its address and the CA pool.
func startDoT(t testing.TB, cfg Config) (addr string, pool *x509.CertPool) {
	t.Helper()
	srv := newTestServer(t, cfg)
	tc, pool := testCerts(t)
	a, err := srv.ListenTLS("127.0.0.1:0", tc)
	if err != nil {
		t.Fatal(err)
	}
	return a.String(), pool
}

// dialDoT opens a DoT connection trusting pool, offering alpn.
func dialDoT(t testing.TB, addr string, pool *x509.CertPool, alpn ...string) (*tls.Conn, error) {
	t.Helper()
	d := &tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: alpn}}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(testTimeout))
	t.Cleanup(func() { c.Close() })
	return c.(*tls.Conn), nil
}

// ednsQuery returns a packed query for name with an OPT record.
func ednsQuery(t testing.TB, id uint16, name string) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.SetEdns0(1232, false)
	m.Id = id
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keepaliveOf returns the edns-tcp-keepalive timeout of m, and whether it has one.
func keepaliveOf(m *dns.Msg) (uint16, bool) {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if k, ok := o.(*dns.EDNS0_TCP_KEEPALIVE); ok {
				return k.Timeout, true
			}
		}
	}
	return 0, false
}

// answerEDNS is answerA that echoes the query's OPT record, as a real server does.
var answerEDNS = dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	name := r.Question[0].Name
	m.Answer = append(m.Answer,
		&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)},
		&dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{networkOf(w)}})
	if r.IsEdns0() != nil {
		m.SetEdns0(1232, false)
	}
	w.WriteMsg(m)
})

// TestDoTRoundTrip pins RFC 7858 over RFC 7766: ALPN "dot", pipelined queries answered on
// one connection, and the RFC 7828 keepalive option (idle timeout in 100 ms units) on
// replies to EDNS queries only.
func TestDoTRoundTrip(t *testing.T) {
	t.Parallel()
	addr, pool := startDoT(t, Config{Handler: answerEDNS, TCPIdleTimeout: 7 * time.Second})
	c, err := dialDoT(t, addr, pool, "dot")
	if err != nil {
		t.Fatal(err)
	}
	if p := c.ConnectionState().NegotiatedProtocol; p != "dot" {
		t.Errorf("ALPN %q, want dot", p)
	}
	writeTCP(t, c, ednsQuery(t, 1, "a.test."), query(t, 2, "b.test."))
	got := map[uint16]*dns.Msg{}
	for range 2 {
		m := unpack(t, readTCP(t, c))
		got[m.Id] = m
	}
	checkAnswered(t, got[1], 1, "tcp")
	checkAnswered(t, got[2], 2, "tcp")
	if k, ok := keepaliveOf(got[1]); !ok || k != 70 {
		t.Errorf("EDNS reply keepalive = %d, %v; want 70 (7 s)", k, ok)
	}
	if got[2].IsEdns0() != nil {
		t.Error("a reply to a query without EDNS carries an OPT record")
	}
}

// TestKeepaliveOnTCP: plain TCP replies carry the option too; UDP replies never do.
func TestKeepaliveOnTCP(t *testing.T) {
	t.Parallel()
	_, udpAddr, tcpAddr := startServer(t, Config{Handler: answerEDNS})
	c := dial(t, "tcp", tcpAddr)
	writeTCP(t, c, ednsQuery(t, 1, "a.test."))
	if k, ok := keepaliveOf(unpack(t, readTCP(t, c))); !ok || k != 100 {
		t.Errorf("TCP keepalive = %d, %v; want 100 (the 10 s default)", k, ok)
	}
	u := dial(t, "udp", udpAddr)
	u.Write(ednsQuery(t, 2, "a.test."))
	if _, ok := keepaliveOf(readUDP(t, u)); ok {
		t.Error("UDP reply carries edns-tcp-keepalive (RFC 7828 §3.2.1 forbids it)")
	}
}

// TestDoTRejects covers clients that must fail cleanly while the server keeps serving: an
// ALPN other than "dot", an untrusted certificate, and plaintext DNS on the TLS port.
func TestDoTRejects(t *testing.T) {
	t.Parallel()
	addr, pool := startDoT(t, Config{})
	if _, err := dialDoT(t, addr, pool, "h2"); err == nil || !strings.Contains(err.Error(), "no application protocol") {
		t.Errorf("wrong ALPN: got %v, want a no-application-protocol alert", err)
	}
	var unknown x509.UnknownAuthorityError
	if _, err := dialDoT(t, addr, x509.NewCertPool(), "dot"); !errors.As(err, &unknown) {
		t.Errorf("untrusted certificate: got %v, want x509.UnknownAuthorityError", err)
	}
	plain := dial(t, "tcp", addr)
	writeTCP(t, plain, query(t, 1, "a.test."))
	if b, _ := io.ReadAll(plain); len(b) > 0 && b[0] != 0x15 { // at most a TLS alert
		t.Errorf("plaintext query got %x, want nothing or a TLS alert", b)
	}
	c, err := dialDoT(t, addr, pool) // no ALPN at all is served
	if err != nil {
		t.Fatal(err)
	}
	writeTCP(t, c, query(t, 7, "canary.test."))
	checkAnswered(t, unpack(t, readTCP(t, c)), 7, "tcp")
}

// TestDoTTimeouts pins the RFC 7766 §6.2.3 timeouts over TLS with short injected values: a
// client that connects and sends nothing (slow loris: not even a handshake) is dropped after
// TCPFirstMessageTimeout, and an idle one after TCPIdleTimeout.
func TestDoTTimeouts(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	addr, pool := startDoT(t, Config{TCPFirstMessageTimeout: timeout, TCPIdleTimeout: timeout})

	start := time.Now()
	silent := dial(t, "tcp", addr)
	expectClosed(t, silent)
	if d := time.Since(start); d > testTimeout/2 {
		t.Errorf("silent connection closed after %v", d)
	}

	c, err := dialDoT(t, addr, pool, "dot")
	if err != nil {
		t.Fatal(err)
	}
	writeTCP(t, c, query(t, 1, "a.test."))
	checkAnswered(t, unpack(t, readTCP(t, c)), 1, "tcp")
	if b := readTCP(t, c); b != nil {
		t.Fatalf("idle connection: got %d bytes, want end of file", len(b))
	}
}

// TestDoTConnectionCap pins MaxTCPConns for DoT: over the cap a connection is closed before
// its handshake, and a slot freed is usable again.
func TestDoTConnectionCap(t *testing.T) {
	t.Parallel()
	addr, pool := startDoT(t, Config{MaxTCPConns: 2})
	var conns []*tls.Conn
	for range 2 {
		c, err := dialDoT(t, addr, pool, "dot")
		if err != nil {
			t.Fatal(err)
		}
		writeTCP(t, c, query(t, 1, "a.test."))
		readTCP(t, c) // admitted and served
		conns = append(conns, c)
	}
	if c, err := dialDoT(t, addr, pool, "dot"); err == nil {
		writeTCP(t, c, query(t, 1, "a.test."))
		if b := readTCP(t, c); b != nil {
			t.Fatal("third connection served over MaxTCPConns 2")
		}
	}
	conns[0].Close()
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) { // the slot frees once the server sees the close
		c, err := dialDoT(t, addr, pool, "dot")
		if err == nil {
			writeTCP(t, c, query(t, 9, "a.test."))
			if b := readTCP(t, c); b != nil {
				checkAnswered(t, unpack(t, b), 9, "tcp")
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no connection admitted after one closed")
}

// TestDoTUnreadReplies pins the slow-reader bound: a client that sends queries and never
// reads their (large) replies makes the server stop reading, so the queries handled stay
// bounded by MaxPipelined plus what the socket buffers hold, not by what the client sends.
func TestDoTUnreadReplies(t *testing.T) {
	t.Parallel()
	var handled atomic.Int64
	big := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		handled.Add(1)
		m := new(dns.Msg)
		m.SetReply(r)
		txt := strings.Repeat("x", 250)
		for range 200 { // about 50 KB
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{txt}})
		}
		w.WriteMsg(m)
	})
	addr, pool := startDoT(t, Config{Handler: big, MaxPipelined: 4})
	c, err := dialDoT(t, addr, pool, "dot")
	if err != nil {
		t.Fatal(err)
	}
	const sent = 5000
	q := query(t, 1, "a.test.")
	framed := append([]byte{0, byte(len(q))}, q...)
	go func() { // ends when the test closes c
		for range sent {
			if _, err := c.Write(framed); err != nil {
				return
			}
		}
	}()
	var last int64 = -1
	for { // wait until the server has stopped handling queries
		time.Sleep(300 * time.Millisecond)
		n := handled.Load()
		if n == last {
			break
		}
		last = n
	}
	if last >= sent/2 {
		t.Fatalf("server handled %d of %d queries whose replies were never read; want it to stop reading", last, sent)
	}
	t.Logf("handled %d queries before the unread replies stopped it", last)
}
