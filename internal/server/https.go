package server

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// DefaultDoHPath is the URL path DoH is served on when ListenHTTPS is given none: the one
// RFC 8484's examples use and clients default to.
const DefaultDoHPath = "/dns-query"

// dohContentType is the media type of a DNS message in DoH (RFC 8484 §6).
const dohContentType = "application/dns-message"

// ListenHTTPS binds a TCP listener to addr and serves DNS over HTTPS (RFC 8484) on path
// (DefaultDoHPath when empty) until Shutdown, over HTTP/2 and HTTP/1.1. It returns the
// bound address.
//
// A query comes as GET path?dns=BASE64URL (the wire-format query, base64url without
// padding) or as POST path with a body of type application/dns-message. The reply is 200
// with an application/dns-message body and a Cache-Control max-age no longer than the
// smallest TTL in its answer (or, for a negative answer, its SOA's negative TTL, RFC 2308).
// Bad requests get HTTP errors, not DNS ones: 400 for a missing or undecodable query or a
// message that is not a query, 404 for another path, 405 for another method, 413 for a POST
// body over 65535 bytes, 414 for a dns parameter over 64 KiB, 415 for another content type.
//
// cfg supplies the certificate as for ListenTLS; NextProtos defaults to h2 and http/1.1.
// Limits (LIMITS.md): at most Config.MaxTCPConns connections on this listener (more are
// closed at once), Config.MaxPipelined concurrent HTTP/2 streams per connection, request
// headers and TLS handshake within Config.TCPFirstMessageTimeout, idle connections closed
// after Config.TCPIdleTimeout, and a connection that cannot be written to for 10 s closed.
// Handlers see Network() "tcp": a DoH reply is never truncated.
func (s *Server) ListenHTTPS(addr, path string, cfg *tls.Config) (net.Addr, error) {
	if path == "" {
		path = DefaultDoHPath
	}
	if path[0] != '/' {
		return nil, fmt.Errorf("server: doh path %q does not start with /", path)
	}
	tc, err := serverTLSConfig(cfg, "h2", "http/1.1")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	d := &dohService{srv: s, ln: &limitListener{Listener: ln, max: int64(s.cfg.MaxTCPConns)}}
	d.http = s.newHTTPServer(&dohHandler{srv: s, path: path}, tc)
	err = s.startService(d, func() {
		s.wg.Go(func() { d.serve() })
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	return ln.Addr(), nil
}

// newHTTPServer returns the http.Server of a DoH listener, with the limits of LIMITS.md.
func (s *Server) newHTTPServer(h http.Handler, tc *tls.Config) *http.Server {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	return &http.Server{
		Handler:           h,
		TLSConfig:         tc,
		Protocols:         &protocols,
		ReadHeaderTimeout: s.cfg.TCPFirstMessageTimeout,
		ReadTimeout:       s.cfg.TCPFirstMessageTimeout,
		WriteTimeout:      dohWriteTimeout,
		IdleTimeout:       s.cfg.TCPIdleTimeout,
		MaxHeaderBytes:    dohMaxHeaderBytes,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams: s.cfg.MaxPipelined,
			WriteByteTimeout:     tcpWriteTimeout,
		},
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// dohService is one DoH listener, stopped by the Server's Shutdown.
type dohService struct {
	srv  *Server
	ln   net.Listener
	http *http.Server
}

// serve runs the http.Server until Shutdown.
func (d *dohService) serve() {
	err := d.http.ServeTLS(d.ln, "", "")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		d.srv.log.Error("doh listener failed", "local", d.ln.Addr(), "err", err)
	}
	d.ln.Close() // Serve leaves it open when Shutdown came first
}

// stopIntake closes the listener and idle connections (HTTP/2 ones get GOAWAY), then waits,
// as a Server goroutine, for the requests in flight.
func (d *dohService) stopIntake() {
	d.srv.wg.Go(func() { d.http.Shutdown(context.Background()) })
}

// closeAll closes every connection, which also ends the wait stopIntake started.
func (d *dohService) closeAll() { d.http.Close() }

// dohHandler turns HTTP requests into DNS queries for the Server.
type dohHandler struct {
	srv  *Server
	path string
}

// ServeHTTP answers one DoH request.
func (h *dohHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != h.path {
		http.NotFound(w, r)
		return
	}
	query, status, err := readDoHQuery(w, r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	sink := &dohSink{}
	rw := &responseWriter{sink: sink, network: "tcp", remote: remoteAddr(r), encrypted: true}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		rw.local = a
	}
	h.srv.answer(query, tcpMessageMax, rw)
	if sink.reply == nil {
		http.Error(w, "server: not a DNS query, or no reply", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", dohContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(sink.reply)))
	w.Header().Set("Cache-Control", "max-age="+strconv.FormatUint(uint64(cacheLifetime(sink.reply)), 10))
	w.Write(sink.reply) // a failed write leaves nothing more to do
}

// readDoHQuery extracts the wire-format query of a GET or POST request, or returns the HTTP
// status that refuses it and why (RFC 8484 §4.1, LIMITS.md).
func readDoHQuery(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	switch r.Method {
	case http.MethodGet:
		values, ok := dnsParam(r.URL)
		switch {
		case !ok || len(values) != 1 || values[0] == "":
			return nil, http.StatusBadRequest, errors.New("server: doh GET needs one dns parameter")
		case len(values[0]) > dohMaxGETParam:
			return nil, http.StatusRequestURITooLong, fmt.Errorf("server: doh dns parameter over %d bytes", dohMaxGETParam)
		}
		query, err := base64.RawURLEncoding.DecodeString(values[0])
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("server: doh dns parameter is not base64url without padding: %w", err)
		}
		return query, 0, nil
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != dohContentType {
			return nil, http.StatusUnsupportedMediaType, fmt.Errorf("server: doh POST body must be %s", dohContentType)
		}
		if r.ContentLength > tcpMessageMax {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("server: doh POST body over %d bytes", tcpMessageMax)
		}
		query, err := io.ReadAll(http.MaxBytesReader(w, r.Body, tcpMessageMax))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("server: doh POST body over %d bytes", tcpMessageMax)
		case err != nil:
			return nil, http.StatusBadRequest, fmt.Errorf("server: doh POST body: %w", err)
		}
		return query, 0, nil
	default:
		w.Header().Set("Allow", "GET, POST")
		return nil, http.StatusMethodNotAllowed, errors.New("server: doh takes GET or POST")
	}
}

// dnsParam returns the values of the dns parameter in u's query string, as
// u.Query()["dns"] does, without building the map of every parameter when the query string
// needs no unescaping (the usual case: base64url is URL-safe).
func dnsParam(u *url.URL) ([]string, bool) {
	raw := u.RawQuery
	if strings.ContainsAny(raw, "%+;") {
		values, ok := u.Query()["dns"]
		return values, ok
	}
	var values []string
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if key, value, _ := strings.Cut(pair, "="); key == "dns" {
			values = append(values, value)
		}
	}
	return values, values != nil
}

// remoteAddr returns the client's address of r as a *net.TCPAddr, or nil.
func remoteAddr(r *http.Request) net.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

// cacheLifetime returns the freshness lifetime of a DoH reply in seconds (RFC 8484 §5.1):
// the smallest TTL in its answer section; for a negative answer (NXDOMAIN or NODATA) the
// negative TTL of RFC 2308 §5, the smaller of the SOA's TTL and MINIMUM field; 0 when there
// is none, for any other RCODE, or a reply that does not parse.
func cacheLifetime(reply []byte) uint32 {
	var m dns.Msg
	if m.Unpack(reply) != nil || (m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError) {
		return 0
	}
	ttl, found := uint32(0), false
	lower := func(t uint32) {
		if !found || t < ttl {
			ttl, found = t, true
		}
	}
	for _, rr := range m.Answer {
		lower(rr.Header().Ttl)
	}
	if found {
		return ttl
	}
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			lower(min(soa.Hdr.Ttl, soa.Minttl))
		}
	}
	return ttl
}

// dohSink keeps the one reply of a DoH request; a second write fails.
type dohSink struct {
	reply []byte
}

func (d *dohSink) send(reply []byte) error {
	switch {
	case len(reply) == 0 || len(reply) > tcpMessageMax:
		return errReplySize
	case d.reply != nil:
		return errAlreadyReplied
	}
	d.reply = append([]byte(nil), reply...)
	return nil
}

// close does nothing: the HTTP server owns the connection.
func (d *dohSink) close() error { return nil }

// limitListener closes at once each connection accepted beyond max open ones, as the TCP
// listeners do, so that a client over the cap fails fast.
type limitListener struct {
	net.Listener
	max  int64
	open atomic.Int64
}

// Accept returns the next connection within the cap.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &countedConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		c.Close()
	}
}

// countedConn gives its slot in a limitListener back when closed.
type countedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
