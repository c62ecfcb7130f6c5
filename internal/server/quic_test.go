package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// startDoQ serves DoQ for cfg on 127.0.0.1:0 and returns its address and the CA pool.
func startDoQ(t testing.TB, cfg Config) (addr string, pool *x509.CertPool) {
	t.Helper()
	srv := newTestServer(t, cfg)
	tc, pool := testCerts(t)
	a, err := srv.ListenQUIC("127.0.0.1:0", tc)
	if err != nil {
		t.Fatal(err)
	}
	return a.String(), pool
}

func dialDoQ(t testing.TB, addr string, pool *x509.CertPool, alpn string) (*quic.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := quic.DialAddr(ctx, addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{alpn}}, nil)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.CloseWithError(0, "") })
	return c, nil
}

// doqExchange sends msg on a new stream of c and returns the reply, or the error.
func doqExchange(t testing.TB, c *quic.Conn, msg []byte) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	st, err := c.OpenStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	st.SetDeadline(time.Now().Add(testTimeout))
	if _, err := st.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)); err != nil {
		return nil, err
	}
	st.Close()
	var prefix [2]byte
	if _, err := io.ReadFull(st, prefix[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(prefix[:]))
	if _, err := io.ReadFull(st, b); err != nil {
		return nil, err
	}
	return b, nil
}

// TestDoQRoundTrip pins RFC 9250 §4.2: one query per stream with ID 0 and a length prefix,
// several streams on one connection.
func TestDoQRoundTrip(t *testing.T) {
	t.Parallel()
	addr, pool := startDoQ(t, Config{})
	c, err := dialDoQ(t, addr, pool, "doq")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.test.", "b.test."} {
		b, err := doqExchange(t, c, query(t, 0, name))
		if err != nil {
			t.Fatal(err)
		}
		checkAnswered(t, unpack(t, b), 0, "tcp")
	}
}

// TestDoQRejects: a client without ALPN "doq" fails the handshake, and a query with an ID
// other than 0 closes the connection with DOQ_PROTOCOL_ERROR (RFC 9250 §4.2.1); the server
// goes on serving.
func TestDoQRejects(t *testing.T) {
	t.Parallel()
	addr, pool := startDoQ(t, Config{})
	if _, err := dialDoQ(t, addr, pool, "dot"); err == nil {
		t.Error("handshake with ALPN dot succeeded")
	}
	c, err := dialDoQ(t, addr, pool, "doq")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := doqExchange(t, c, query(t, 1234, "a.test.")); err == nil {
		t.Fatal("a query with ID 1234 was answered")
	}
	<-c.Context().Done()
	var appErr *quic.ApplicationError
	if err := context.Cause(c.Context()); !errors.As(err, &appErr) || appErr.ErrorCode != 0x2 {
		t.Errorf("connection closed with %v, want DOQ_PROTOCOL_ERROR (0x2)", err)
	}
	c2, err := dialDoQ(t, addr, pool, "doq")
	if err != nil {
		t.Fatal(err)
	}
	b, err := doqExchange(t, c2, query(t, 0, "canary.test."))
	if err != nil {
		t.Fatal(err)
	}
	checkAnswered(t, unpack(t, b), 0, "tcp")
}

// TestDoQIdleTimeout: a connection without traffic is closed after TCPIdleTimeout (quic-go
// applies at least 5 s, so the test takes that long).
func TestDoQIdleTimeout(t *testing.T) {
	t.Parallel()
	addr, pool := startDoQ(t, Config{TCPIdleTimeout: 300 * time.Millisecond})
	c, err := dialDoQ(t, addr, pool, "doq")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Context().Done():
	case <-time.After(testTimeout):
		t.Fatal("idle DoQ connection still open")
	}
}

// TestShutdownEncrypted: Shutdown stops DoT, DoH and DoQ listeners along with UDP and TCP,
// with a query in flight on each answered first, and nothing left listening.
func TestShutdownEncrypted(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{Handler: answerA, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	tc, pool := testCerts(t)
	dot, err := srv.ListenTLS("127.0.0.1:0", tc)
	if err != nil {
		t.Fatal(err)
	}
	doh, err := srv.ListenHTTPS("127.0.0.1:0", "/q", tc)
	if err != nil {
		t.Fatal(err)
	}
	doq, err := srv.ListenQUIC("127.0.0.1:0", tc)
	if err != nil {
		t.Fatal(err)
	}
	// Connections that are open and idle when Shutdown begins.
	dc, err := dialDoT(t, dot.String(), pool, "dot")
	if err != nil {
		t.Fatal(err)
	}
	qc, err := dialDoQ(t, doq.String(), pool, "doq")
	if err != nil {
		t.Fatal(err)
	}
	hc := dohClient(t, pool, true)
	resp, _ := dohDo(t, hc, postRequest(t, "https://"+doh.String()+"/q", "application/dns-message", query(t, 0, "a.test.")))
	if resp.StatusCode != 200 {
		t.Fatalf("DoH before shutdown: %s", resp.Status)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if b := readTCP(t, dc); b != nil {
		t.Error("DoT connection got data after Shutdown")
	}
	<-qc.Context().Done()
	for _, addr := range []net.Addr{dot, doh} {
		if c, err := net.Dial("tcp", addr.String()); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Shutdown", addr)
		}
	}
	if _, err := srv.ListenTLS("127.0.0.1:0", tc); !errors.Is(err, ErrClosed) {
		t.Errorf("ListenTLS after Shutdown: %v, want ErrClosed", err)
	}
}
