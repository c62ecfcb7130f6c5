package interop

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/transport"
	"github.com/rensa-dns/rensa/internal/zone"
)

// This file shows rensa's encrypted transports working with other implementations: kdig
// and curl as clients of rensa's DoT and DoH listeners, Unbound forwarding to rensa over
// DoT, and rensa's DoT and DoH clients against Unbound's listeners.

// encryptedZone is served by rensa's authoritative engine in these tests. web's address is
// known only to rensa: curl must learn it over DoH.
const encryptedZone = `
$ORIGIN rensa-interop.test.
@    SOA ns hostmaster 1 7200 3600 1209600 300
@    NS  ns
ns   A   127.0.0.1
web  A   127.0.0.1
www  A   192.0.2.80
`

// encryptedRensa is an authoritative rensa serving encryptedZone over plain DNS, DoT and
// DoH on 127.0.0.1 with a self-signed certificate.
type encryptedRensa struct {
	plain, dot, doh string // host:port
	caFile          string
}

func startEncryptedRensa(t *testing.T) encryptedRensa {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	engine, err := auth.New(auth.Config{Zones: zone.NewSet(dnstest.Zone(t, "rensa-interop.test.", encryptedZone)), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Handler: engine, Logger: logger, UDPSockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	certFile, keyFile, caFile, err := server.SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certs, err := server.LoadCertSource(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	r := encryptedRensa{caFile: caFile}
	_, plain, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dot, err := srv.ListenTLS("127.0.0.1:0", certs.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	doh, err := srv.ListenHTTPS("127.0.0.1:0", "", certs.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	r.plain, r.dot, r.doh = plain.String(), dot.String(), doh.String()
	return r
}

// TestKdigEncrypted asks rensa's DoT and DoH listeners with kdig +tls and +https, checking
// the certificate against the self-signed CA.
func TestKdigEncrypted(t *testing.T) {
	t.Parallel()
	kdig := requirePeer(t, "kdig")
	r := startEncryptedRensa(t)
	for _, tc := range []struct {
		name    string
		addr    string
		args    []string
		session string // the line kdig prints for the session
	}{
		{"tls", r.dot, []string{"+tls", "+tls-ca=" + r.caFile, "+tls-hostname=localhost"}, ";; TLS session (TLS1.3)"},
		{"https", r.doh, []string{"+https=/dns-query", "+tls-ca=" + r.caFile, "+tls-hostname=localhost"}, ";; HTTP session (HTTP/2-POST)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host, port, _ := net.SplitHostPort(tc.addr)
			args := append([]string{"@" + host, "-p", port, "+time=5", "+retry=0", "+norec", "www.rensa-interop.test", "A"}, tc.args...)
			out := runPeer(t, kdig, args...)
			// The HTTP session line has a "status: 200" of its own; the DNS one follows.
			var lines []string
			for _, l := range strings.Split(out, "\n") {
				if !strings.HasPrefix(l, ";; HTTP session") {
					lines = append(lines, l)
				}
			}
			rep, err := parseDigOutput(strings.Join(lines, "\n"))
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"www.rensa-interop.test. A 192.0.2.80"}
			if rep.rcode != "NOERROR" || !rep.flags["aa"] || !sameSet(rep.sections["ANSWER"], want) {
				t.Errorf("kdig +%s: got %s %v %v, want NOERROR aa %v\n%s", tc.name, rep.rcode, rep.flags, rep.sections["ANSWER"], want, out)
			}
			if !strings.Contains(out, tc.session) {
				t.Errorf("kdig output lacks %q:\n%s", tc.session, out)
			}
		})
	}
}

// TestCurlOverDoH fetches a page from a loopback HTTP server by a name only rensa knows,
// with curl resolving it over rensa's DoH listener.
func TestCurlOverDoH(t *testing.T) {
	t.Parallel()
	curl := requirePeer(t, "curl")
	r := startEncryptedRensa(t)
	const page = "hello through rensa DoH\n"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	web := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, page) }),
		ReadHeaderTimeout: 5 * time.Second}
	go web.Serve(ln) // owned by the test: ends at Close
	t.Cleanup(func() { web.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	out := runPeer(t, curl, "--silent", "--show-error", "--max-time", "10",
		"--doh-url", "https://"+r.doh+"/dns-query", "--cacert", r.caFile,
		"http://web.rensa-interop.test:"+port+"/")
	if out != page {
		t.Errorf("curl got %q, want %q", out, page)
	}
}

// TestUnboundForwardsOverDoT runs Unbound forwarding to rensa over DoT
// (forward-tls-upstream) and asks Unbound over plain DNS.
func TestUnboundForwardsOverDoT(t *testing.T) {
	t.Parallel()
	unbound := requirePeer(t, "unbound")
	r := startEncryptedRensa(t)
	_, dotPort, _ := net.SplitHostPort(r.dot)
	// Unbound forwards everything to rensa over DoT, trusting rensa's
	// self-signed CA and checking the name "localhost" in its certificate.
	addr := startUnbound(t, unbound, unboundConfig{dir: t.TempDir(), port: freePort(t, "127.0.0.1"), tlsCertBundle: r.caFile,
		clauses: "forward-zone:\n\tname: \".\"\n\tforward-tls-upstream: yes\n\tforward-addr: 127.0.0.1@" + dotPort + "#localhost\n"})
	m := new(dns.Msg)
	m.SetQuestion("web.rensa-interop.test.", dns.TypeA)
	c := dns.Client{Timeout: 5 * time.Second}
	reply, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Rcode != dns.RcodeSuccess || len(reply.Answer) != 1 || reply.Answer[0].(*dns.A).A.String() != "127.0.0.1" {
		t.Errorf("Unbound forwarding over DoT: %v", reply)
	}
}

// TestRensaClientsAgainstUnbound asks Unbound's DoT and DoH listeners with rensa's DoT and
// DoH transports, the code "rensa query @tls://..." and "@https://..." run.
func TestRensaClientsAgainstUnbound(t *testing.T) {
	t.Parallel()
	unbound := requirePeer(t, "unbound")
	dir := t.TempDir()
	certFile, keyFile, caFile, err := server.SelfSigned(filepath.Join(dir, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	plain, dot, doh := freePort(t, "127.0.0.1"), freePort(t, "127.0.0.1"), freePort(t, "127.0.0.1")
	// Unbound serves local data over plain DNS, DoT and DoH.
	startUnbound(t, unbound, unboundConfig{dir: dir, port: plain, tlsPort: dot, httpsPort: doh, tlsKey: keyFile, tlsCert: certFile,
		server: []string{`local-zone: "unbound-interop.test." static`, `local-data: "www.unbound-interop.test. 300 IN A 192.0.2.53"`}})
	for name, ex := range map[string]transport.Exchanger{
		"DoT":      &transport.DoT{Addr: fmt.Sprintf("127.0.0.1:%d", dot), CAFile: caFile, Timeout: 5 * time.Second},
		"DoH POST": &transport.DoH{URL: fmt.Sprintf("https://127.0.0.1:%d/dns-query", doh), CAFile: caFile, Timeout: 5 * time.Second},
		"DoH GET":  &transport.DoH{URL: fmt.Sprintf("https://127.0.0.1:%d/dns-query", doh), CAFile: caFile, Method: http.MethodGet, Timeout: 5 * time.Second},
	} {
		m := new(dns.Msg)
		m.SetQuestion("www.unbound-interop.test.", dns.TypeA)
		m.SetEdns0(1232, false)
		r, err := ex.Exchange(context.Background(), m)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.53" {
			t.Errorf("%s: %v", name, r)
		}
		if c, ok := ex.(interface{ Close() error }); ok {
			c.Close()
		}
	}
}
