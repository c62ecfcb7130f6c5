package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// startDoH serves DoH for cfg on 127.0.0.1:0 at DefaultDoHPath and returns its base URL
// ("https://127.0.0.1:PORT") and the CA pool.
func startDoH(t testing.TB, cfg Config) (base string, pool *x509.CertPool) {
	t.Helper()
	srv := newTestServer(t, cfg)
	tc, pool := testCerts(t)
	a, err := srv.ListenHTTPS("127.0.0.1:0", "", tc)
	if err != nil {
		t.Fatal(err)
	}
	return "https://" + a.String(), pool
}

// dohClient returns an HTTP client trusting pool: HTTP/2 if h2, else HTTP/1.1 only.
func dohClient(t testing.TB, pool *x509.CertPool, h2 bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	if h2 {
		tr.ForceAttemptHTTP2 = true
	} else {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: testTimeout}
}

// dohGet sends q in a GET request and returns the response and its body.
func dohDo(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func getRequest(t testing.TB, url string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func postRequest(t testing.TB, url, contentType string, body []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return req
}

// TestDoHRoundTrip pins RFC 8484 §4: GET with dns= in base64url without padding and POST
// with an application/dns-message body, over HTTP/2 and HTTP/1.1, answered with 200, the
// DNS media type and Cache-Control max-age from the answer's TTL (60 s in answerA).
func TestDoHRoundTrip(t *testing.T) {
	t.Parallel()
	base, pool := startDoH(t, Config{})
	for _, h2 := range []bool{true, false} {
		c := dohClient(t, pool, h2)
		q := query(t, 0, "a.test.")
		for _, req := range []*http.Request{
			getRequest(t, base+"/dns-query?dns="+base64.RawURLEncoding.EncodeToString(q)),
			postRequest(t, base+"/dns-query", "application/dns-message", q),
		} {
			resp, body := dohDo(t, c, req)
			wantProto := map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[h2]
			if resp.StatusCode != 200 || resp.Proto != wantProto {
				t.Fatalf("%s %s: %s %s: %s", req.Method, wantProto, resp.Proto, resp.Status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/dns-message" {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "max-age=60" {
				t.Errorf("Cache-Control %q, want max-age=60", cc)
			}
			checkAnswered(t, unpack(t, body), 0, "tcp")
		}
	}
}

// TestDoHBadRequests pins the HTTP statuses of LIMITS.md and RFC 8484 for requests that are
// not DNS queries.
func TestDoHBadRequests(t *testing.T) {
	t.Parallel()
	base, pool := startDoH(t, Config{})
	c := dohClient(t, pool, true)
	q := query(t, 0, "a.test.")
	resp := query(t, 0, "a.test.")
	resp[2] |= qrBit
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
	}{
		{"GET without dns", getRequest(t, base+"/dns-query"), 400},
		{"GET with bad base64", getRequest(t, base+"/dns-query?dns=%21%21"), 400},
		{"GET with padding", getRequest(t, base+"/dns-query?dns="+base64.URLEncoding.EncodeToString(query(t, 0, "ab.test."))), 400},
		{"GET with dns over 64 KiB", getRequest(t, base+"/dns-query?dns="+strings.Repeat("A", 64<<10+4)), 414},
		{"POST over 65535 bytes", postRequest(t, base+"/dns-query", "application/dns-message", make([]byte, 65536)), 413},
		{"POST of the wrong type", postRequest(t, base+"/dns-query", "application/json", q), 415},
		{"POST without type", postRequest(t, base+"/dns-query", "", q), 415},
		{"POST of a response", postRequest(t, base+"/dns-query", "application/dns-message", resp), 400},
		{"other path", getRequest(t, base+"/other?dns="+base64.RawURLEncoding.EncodeToString(q)), 404},
		{"PUT", func() *http.Request {
			r := postRequest(t, base+"/dns-query", "application/dns-message", q)
			r.Method = "PUT"
			return r
		}(), 405},
	} {
		r, body := dohDo(t, c, tc.req)
		if r.StatusCode != tc.want {
			t.Errorf("%s: got %s (%s), want %d", tc.name, r.Status, bytes.TrimSpace(body), tc.want)
		}
	}
	// The server still answers.
	r, body := dohDo(t, c, postRequest(t, base+"/dns-query", "application/dns-message", q))
	if r.StatusCode != 200 {
		t.Fatalf("after bad requests: %s", r.Status)
	}
	checkAnswered(t, unpack(t, body), 0, "tcp")
}

// TestCacheLifetime pins RFC 8484 §5.1 freshness: the smallest answer TTL; for a negative
// answer the SOA's negative TTL (RFC 2308 §5); 0 otherwise.
func TestCacheLifetime(t *testing.T) {
	t.Parallel()
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	soa := rr("test. 3600 IN SOA ns.test. host.test. 1 7200 3600 1209600 300")
	for _, tc := range []struct {
		name   string
		rcode  int
		answer []dns.RR
		ns     []dns.RR
		want   uint32
	}{
		{"smallest answer TTL", dns.RcodeSuccess, []dns.RR{rr("a.test. 300 IN A 192.0.2.1"), rr("a.test. 30 IN A 192.0.2.2")}, []dns.RR{soa}, 30},
		{"NXDOMAIN uses SOA minimum", dns.RcodeNameError, nil, []dns.RR{soa}, 300},
		{"NODATA uses SOA TTL when smaller", dns.RcodeSuccess, nil, []dns.RR{rr("test. 60 IN SOA ns.test. host.test. 1 7200 3600 1209600 300")}, 60},
		{"no records", dns.RcodeSuccess, nil, nil, 0},
		{"SERVFAIL", dns.RcodeServerFailure, []dns.RR{rr("a.test. 300 IN A 192.0.2.1")}, nil, 0},
	} {
		m := new(dns.Msg)
		m.SetQuestion("a.test.", dns.TypeA)
		m.Response, m.Rcode, m.Answer, m.Ns = true, tc.rcode, tc.answer, tc.ns
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if got := cacheLifetime(b); got != tc.want {
			t.Errorf("%s: max-age %d, want %d", tc.name, got, tc.want)
		}
	}
}

// rfc8484Vectors is ../shared/conformance/rfc-vectors/rfc8484-doh-examples.json.
type rfc8484Vectors struct {
	Requests []struct {
		Name    string            `json:"name"`
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		WireHex string            `json:"wire_hex"`
		BodyHex string            `json:"body_hex"`
		QName   string            `json:"qname"`
		QType   string            `json:"qtype"`
		ID      uint16            `json:"id"`
	} `json:"requests"`
	Responses []struct {
		Headers map[string]string `json:"headers"`
		BodyHex string            `json:"body_hex"`
	} `json:"responses"`
}

// TestRFC8484Examples sends the example requests of RFC 8484 §4.1.1 to the DoH listener, as
// printed, and checks that the handler receives the stated query; and that the example
// response gets the stated Cache-Control.
func TestRFC8484Examples(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../../shared/conformance/rfc-vectors/rfc8484-doh-examples.json")
	if err != nil {
		t.Skipf("RFC vectors not available: %v", err)
	}
	var vec rfc8484Vectors
	if err := json.Unmarshal(raw, &vec); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex // guards seen
	var seen *dns.Msg
	record := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		mu.Lock()
		seen = r
		mu.Unlock()
		answerA(w, r)
	})
	base, pool := startDoH(t, Config{Handler: record})
	c := dohClient(t, pool, true)
	for _, ex := range vec.Requests {
		wire, err := hex.DecodeString(ex.WireHex + ex.BodyHex)
		if err != nil {
			t.Fatal(err)
		}
		want := unpack(t, wire)
		req, err := http.NewRequest(ex.Method, base+ex.Path, bytes.NewReader(wire))
		if err != nil {
			t.Fatal(err)
		}
		if ex.Method == http.MethodGet {
			req.Body, req.ContentLength = nil, 0
		}
		for k, v := range ex.Headers {
			if k != "content-length" {
				req.Header.Set(k, v)
			}
		}
		resp, body := dohDo(t, c, req)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %s: %s", ex.Name, resp.Status, body)
			continue
		}
		mu.Lock()
		got := seen
		mu.Unlock()
		if got == nil || got.Id != want.Id || got.Question[0] != want.Question[0] {
			t.Errorf("%s: handler got %v, want %v", ex.Name, got, want.Question)
		}
		if ex.QName != "" && (want.Question[0].Name != ex.QName || dns.TypeToString[want.Question[0].Qtype] != ex.QType || want.Id != ex.ID) {
			t.Errorf("%s: the vector's wire form is %v, not %s %s id %d", ex.Name, want.Question[0], ex.QName, ex.QType, ex.ID)
		}
	}
	for _, r := range vec.Responses {
		b, err := hex.DecodeString(r.BodyHex)
		if err != nil {
			t.Fatal(err)
		}
		if got := "max-age=" + strconv.FormatUint(uint64(cacheLifetime(b)), 10); got != r.Headers["cache-control"] {
			t.Errorf("example response: %s, want %s", got, r.Headers["cache-control"])
		}
	}
}

// TestDoHLimits pins the connection limits over DoH with short injected timeouts: a client
// that connects and sends nothing is dropped after TCPFirstMessageTimeout, one that dribbles
// its request headers too (slow loris), and MaxTCPConns caps the listener.
func TestDoHLimits(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	base, pool := startDoH(t, Config{TCPFirstMessageTimeout: timeout, TCPIdleTimeout: timeout, MaxTCPConns: 2})
	addr := strings.TrimPrefix(base, "https://")

	silent := dial(t, "tcp", addr)
	expectClosed(t, silent)

	loris, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { loris.Close() })
	loris.SetDeadline(time.Now().Add(testTimeout))
	io.WriteString(loris, "GET /dns-query?dns=AAAB HTTP/1.1\r\nHost: x\r\n") // and never the end
	if b, err := io.ReadAll(loris); err != nil && !isClosedErr(err) {
		t.Fatalf("slow loris: %v", err)
	} else if len(b) > 0 && !bytes.HasPrefix(b, []byte("HTTP/1.1 408")) && !bytes.HasPrefix(b, []byte("HTTP/1.1 400")) {
		t.Fatalf("slow loris got %q", b)
	}

	// Two connections held open fill the cap; a third is closed at once. The
	// slots of the two closed above are given back when the server's side
	// of each has finished, which may be just after the client saw the
	// close: until then a dial is refused, so the two are retried.
	for range 2 {
		c := dialTLSRetry(t, addr, &tls.Config{RootCAs: pool})
		t.Cleanup(func() { c.Close() })
	}
	third, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	if err == nil {
		third.Close()
		t.Fatal("third connection completed its handshake over MaxTCPConns 2")
	}
}

// dialTLSRetry dials addr until a TLS handshake completes, for at most testTimeout.
func dialTLSRetry(t *testing.T, addr string, cfg *tls.Config) *tls.Conn {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		c, err := tls.Dial("tcp", addr, cfg)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
}

// isClosedErr reports whether err is how a read sees a connection the server closed.
func isClosedErr(err error) bool {
	return strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "closed")
}

// TestDoHMaxStreams pins the HTTP/2 stream cap (LIMITS.md: 100 per connection, from
// Config.MaxPipelined): the server's SETTINGS frame announces it.
func TestDoHMaxStreams(t *testing.T) {
	t.Parallel()
	base, pool := startDoH(t, Config{MaxPipelined: 7})
	c, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{RootCAs: pool, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testTimeout))
	// The client preface and an empty SETTINGS frame (RFC 9113 §3.4, §6.5).
	if _, err := io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"); err != nil {
		t.Fatal(err)
	}
	var hdr [9]byte // the server's first frame must be SETTINGS
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatal(err)
	}
	if hdr[3] != 0x4 {
		t.Fatalf("first frame has type %d, want SETTINGS (4)", hdr[3])
	}
	payload := make([]byte, int(hdr[0])<<16|int(hdr[1])<<8|int(hdr[2]))
	if _, err := io.ReadFull(c, payload); err != nil {
		t.Fatal(err)
	}
	for p := payload; len(p) >= 6; p = p[6:] {
		if binary.BigEndian.Uint16(p) == 0x3 { // SETTINGS_MAX_CONCURRENT_STREAMS
			if v := binary.BigEndian.Uint32(p[2:]); v != 7 {
				t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS = %d, want 7", v)
			}
			return
		}
	}
	t.Error("the server's SETTINGS do not cap concurrent streams")
}

// TestDoHRejects: a client offering only another ALPN protocol fails the handshake, and
// plaintext HTTP on the DoH port gets an HTTP error, not a crash; the server goes on.
func TestDoHRejects(t *testing.T) {
	t.Parallel()
	base, pool := startDoH(t, Config{})
	addr := strings.TrimPrefix(base, "https://")
	if c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, NextProtos: []string{"dot"}}); err == nil {
		c.Close()
		t.Error("handshake offering only ALPN dot succeeded on the DoH port")
	}
	plain := dial(t, "tcp", addr)
	io.WriteString(plain, "GET /dns-query?dns=AAA HTTP/1.1\r\nHost: x\r\n\r\n")
	if b, _ := io.ReadAll(plain); !bytes.HasPrefix(b, []byte("HTTP/1.0 400")) {
		t.Errorf("plaintext HTTP got %q, want a 400", b)
	}
	r, body := dohDo(t, dohClient(t, pool, true), postRequest(t, base+"/dns-query", "application/dns-message", query(t, 0, "a.test.")))
	if r.StatusCode != 200 {
		t.Fatalf("after rejects: %s", r.Status)
	}
	checkAnswered(t, unpack(t, body), 0, "tcp")
}

// FuzzDoHRequest feeds arbitrary GET parameters and POST bodies to the DoH handler: it must
// answer every one with 200 and a DNS message, or with a 4xx, and never panic.
func FuzzDoHRequest(f *testing.F) {
	f.Add("AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB", []byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1})
	f.Add("%%%", []byte{})
	f.Add("AAA=", []byte{0xff, 0xff})
	srv, err := New(Config{Handler: answerA, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	h := &dohHandler{srv: srv, path: DefaultDoHPath}
	f.Fuzz(func(t *testing.T, param string, body []byte) {
		for _, req := range []*http.Request{
			func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/dns-query", nil)
				r.URL.RawQuery = "dns=" + param
				return r
			}(),
			func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/dns-query", bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/dns-message")
				return r
			}(),
		} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			switch {
			case w.Code == 200:
				var m dns.Msg
				if err := m.Unpack(w.Body.Bytes()); err != nil || !m.Response {
					t.Fatalf("200 with a body that is not a DNS response: %v", err)
				}
			case w.Code < 400 || w.Code >= 500:
				t.Fatalf("status %d", w.Code)
			}
		}
	})
}
