package transport

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/server"
)

// This file tests DoT, DoH and DoQ against rensa's own listeners (internal/server) with a
// self-signed CA.

// encServer is one server.Server with DoT, DoH and DoQ listeners on 127.0.0.1.
type encServer struct {
	dot, doq string // host:port
	doh      string // URL
	caFile   string
	pin      string // SPKI pin of the server certificate
}

// answerHandler answers every query with an A record 192.0.2.1.
var answerHandler = dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)})
	w.WriteMsg(m)
})

func startEncrypted(t *testing.T, cfg server.Config) encServer {
	t.Helper()
	if cfg.Handler == nil {
		cfg.Handler = answerHandler
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	certFile, keyFile, caFile, err := server.SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := server.LoadCertSource(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var e encServer
	e.caFile = caFile
	cert, _ := src.GetCertificate(nil)
	e.pin = SPKIPin(cert.Leaf)
	dot, err := srv.ListenTLS("127.0.0.1:0", src.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	doh, err := srv.ListenHTTPS("127.0.0.1:0", "", src.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	doq, err := srv.ListenQUIC("127.0.0.1:0", src.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	e.dot, e.doh, e.doq = dot.String(), "https://"+doh.String()+"/dns-query", doq.String()
	return e
}

func testQuery(name string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.SetEdns0(1232, false)
	return m
}

// checkReply fails unless r answers name with 192.0.2.1.
func checkReply(t testing.TB, r *dns.Msg, err error, name string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 || r.Answer[0].Header().Name != name {
		t.Fatalf("want the A record of %s, got:\n%v", name, r)
	}
}

// closer is an Exchanger holding a connection.
type closer interface {
	Exchanger
	Close() error
}

// TestEncryptedExchange runs every encrypted transport against rensa's listeners: many
// concurrent exchanges, each matched to its own query.
func TestEncryptedExchange(t *testing.T) {
	t.Parallel()
	e := startEncrypted(t, server.Config{})
	for name, ex := range map[string]Exchanger{
		"DoT":      &DoT{Addr: e.dot, CAFile: e.caFile},
		"DoH POST": &DoH{URL: e.doh, CAFile: e.caFile},
		"DoH GET":  &DoH{URL: e.doh, CAFile: e.caFile, Method: http.MethodGet},
		"DoQ":      &DoQ{Addr: e.doq, CAFile: e.caFile},
	} {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Go(func() {
					qname := "q" + strings.Repeat("x", i%7) + ".test."
					r, err := ex.Exchange(context.Background(), testQuery(qname))
					if err != nil || len(r.Answer) != 1 || r.Answer[0].Header().Name != qname {
						t.Errorf("exchange %d: %v %v", i, err, r)
					}
				})
			}
			wg.Wait()
			if c, ok := ex.(closer); ok {
				c.Close()
			}
		})
	}
}

// TestDoTReusesAndReconnects: exchanges share one connection; when the server closes it
// (idle timeout), the next exchange dials a new one and succeeds.
func TestDoTReusesAndReconnects(t *testing.T) {
	t.Parallel()
	e := startEncrypted(t, server.Config{TCPIdleTimeout: 100 * time.Millisecond})
	var dials atomic.Int32
	d := &DoT{Addr: e.dot, CAFile: e.caFile, Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer d.Close()
	for range 3 {
		r, err := d.Exchange(context.Background(), testQuery("a.test."))
		checkReply(t, r, err, "a.test.")
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("3 quick exchanges dialled %d times, want 1", n)
	}
	deadline := time.Now().Add(5 * time.Second) // wait for the server's idle close
	for d.conn.alive() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	r, err := d.Exchange(context.Background(), testQuery("b.test."))
	checkReply(t, r, err, "b.test.")
	if n := dials.Load(); n != 2 {
		t.Errorf("after the server closed the connection: %d dials, want 2", n)
	}
}

// TestCertificateChecks pins the three ways of trusting a server: the system roots (which
// do not know the test CA), a CA file, and an SPKI pin (RFC 7858 §4.2), right or wrong.
func TestCertificateChecks(t *testing.T) {
	t.Parallel()
	e := startEncrypted(t, server.Config{})
	wrongPin := "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	for _, tc := range []struct {
		name    string
		ex      Exchanger
		wantErr func(error) bool
	}{
		{"DoT system roots", &DoT{Addr: e.dot}, isUnknownAuthority},
		{"DoT pin", &DoT{Addr: e.dot, SPKIPin: e.pin}, nil},
		{"DoT pin and CA", &DoT{Addr: e.dot, SPKIPin: e.pin, CAFile: e.caFile}, nil},
		{"DoT wrong pin", &DoT{Addr: e.dot, SPKIPin: wrongPin}, func(err error) bool { return errors.Is(err, ErrPinMismatch) }},
		{"DoT wrong name", &DoT{Addr: e.dot, CAFile: e.caFile, ServerName: "dns.example"}, func(err error) bool {
			var h x509.HostnameError
			return errors.As(err, &h)
		}},
		{"DoH system roots", &DoH{URL: e.doh}, isUnknownAuthority},
		{"DoH pin", &DoH{URL: e.doh, SPKIPin: e.pin}, nil},
		{"DoH wrong pin", &DoH{URL: e.doh, SPKIPin: wrongPin}, func(err error) bool { return errors.Is(err, ErrPinMismatch) }},
		{"DoQ system roots", &DoQ{Addr: e.doq}, isUnknownAuthority},
		{"DoQ pin", &DoQ{Addr: e.doq, SPKIPin: e.pin}, nil},
		{"DoQ wrong pin", &DoQ{Addr: e.doq, SPKIPin: wrongPin}, func(err error) bool { return errors.Is(err, ErrPinMismatch) }},
	} {
		r, err := tc.ex.Exchange(context.Background(), testQuery("a.test."))
		if c, ok := tc.ex.(closer); ok {
			c.Close()
		}
		switch {
		case tc.wantErr == nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr == nil && len(r.Answer) != 1:
			t.Errorf("%s: reply %v", tc.name, r)
		case tc.wantErr != nil && (err == nil || !tc.wantErr(err)):
			t.Errorf("%s: got error %v", tc.name, err)
		}
	}
}

func isUnknownAuthority(err error) bool {
	var u x509.UnknownAuthorityError
	return errors.As(err, &u) || strings.Contains(err.Error(), "certificate signed by unknown authority")
}

// TestDoHErrorStatus: a non-200 reply is no reply: Exchange errors, naming the status.
func TestDoHErrorStatus(t *testing.T) {
	t.Parallel()
	e := startEncrypted(t, server.Config{})
	d := &DoH{URL: strings.TrimSuffix(e.doh, "/dns-query") + "/elsewhere", CAFile: e.caFile}
	if _, err := d.Exchange(context.Background(), testQuery("a.test.")); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("got %v, want an error naming 404", err)
	}
	if _, err := (&DoH{URL: "http://127.0.0.1/dns-query"}).Exchange(context.Background(), testQuery("a.test.")); err == nil {
		t.Error("an http:// URL was accepted")
	}
}

// TestEncryptedTimeout: a server that never answers makes Exchange fail with ErrTimeout.
func TestEncryptedTimeout(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	e := startEncrypted(t, server.Config{Handler: dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) { <-block })})
	t.Cleanup(func() { close(block) }) // before the server's Shutdown, which waits for handlers
	for name, ex := range map[string]Exchanger{
		"DoT": &DoT{Addr: e.dot, CAFile: e.caFile, Timeout: 300 * time.Millisecond},
		"DoH": &DoH{URL: e.doh, CAFile: e.caFile, Timeout: 300 * time.Millisecond},
		"DoQ": &DoQ{Addr: e.doq, CAFile: e.caFile, Timeout: 300 * time.Millisecond},
	} {
		if _, err := ex.Exchange(context.Background(), testQuery("a.test.")); !errors.Is(err, ErrTimeout) {
			t.Errorf("%s: got %v, want ErrTimeout", name, err)
		}
		if c, ok := ex.(closer); ok {
			c.Close()
		}
	}
}

// TestEncryptedPadding pins RFC 8467 block-length padding: queries with EDNS leave every
// encrypted transport padded to a multiple of 128 bytes, and rensa's listeners pad the
// replies to such queries to a multiple of 468 (RFC 7830 §4 requires a padded reply).
func TestEncryptedPadding(t *testing.T) {
	t.Parallel()
	sizes := make(chan int, 10)
	e := startEncrypted(t, server.Config{Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		b, _ := r.Pack()
		sizes <- len(b)
		m := new(dns.Msg)
		m.SetReply(r)
		m.SetEdns0(1232, false)
		w.WriteMsg(m)
	})})
	for name, ex := range map[string]Exchanger{
		"DoT": &DoT{Addr: e.dot, CAFile: e.caFile},
		"DoH": &DoH{URL: e.doh, CAFile: e.caFile},
		"DoQ": &DoQ{Addr: e.doq, CAFile: e.caFile},
	} {
		r, err := ex.Exchange(context.Background(), testQuery("a.test."))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := <-sizes; n%128 != 0 {
			t.Errorf("%s: query of %d bytes, want a multiple of 128", name, n)
		}
		r.Compress = false
		if b, _ := r.Pack(); len(b)%468 != 0 {
			t.Errorf("%s: reply of %d bytes, want a multiple of 468", name, len(b))
		}
		if c, ok := ex.(closer); ok {
			c.Close()
		}
	}
}
