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
	d := &dohService{
		srv:  s,
		path: path,
		ln:   &limitListener{Listener: ln, max: int64(s.cfg.MaxTCPConns)},
		h2:   make(map[*h2Conn]struct{}),
	}
	d.http = s.newHTTPServer(&dohHandler{srv: s, path: path}, tc)
	d.http.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
		"h2": func(_ *http.Server, tc *tls.Conn, _ http.Handler) { d.serveH2(tc) },
	}
	d.http.RegisterOnShutdown(d.drainH2)
	err = s.startService(d, func() {
		s.wg.Go(func() { d.serve() })
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	return ln.Addr(), nil
}

// newHTTPServer returns the http.Server of a DoH listener, with the limits of LIMITS.md. It
// serves HTTP/1.1; HTTP/2 connections are handed to h2Conn (TLSNextProto).
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
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// dohService is one DoH listener, stopped by the Server's Shutdown.
type dohService struct {
	srv  *Server
	path string
	ln   net.Listener
	http *http.Server

	mu sync.Mutex // guards h2
	h2 map[*h2Conn]struct{}
}

// serve runs the http.Server until Shutdown.
func (d *dohService) serve() {
	err := d.http.ServeTLS(d.ln, "", "")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		d.srv.log.Error("doh listener failed", "local", d.ln.Addr(), "err", err)
	}
	d.ln.Close() // Serve leaves it open when Shutdown came first
}

// serveH2 serves an HTTP/2 connection whose TLS handshake is done, until it ends. The
// http.Server counts it as active meanwhile, so its Shutdown waits for it.
func (d *dohService) serveH2(tc *tls.Conn) {
	c := newH2Conn(d.srv, d.path, tc)
	d.mu.Lock()
	d.h2[c] = struct{}{}
	d.mu.Unlock()
	if d.srv.stopping() {
		c.drain()
	}
	c.serve()
	d.mu.Lock()
	delete(d.h2, c)
	d.mu.Unlock()
}

// drainH2 tells every HTTP/2 connection to go away: GOAWAY, and close once the streams
// already begun are answered. The http.Server's Shutdown calls it.
func (d *dohService) drainH2() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.h2 {
		c.drain()
	}
}

// stopIntake closes the listener and idle connections (HTTP/2 ones get GOAWAY), then waits,
// as a Server goroutine, for the requests in flight.
func (d *dohService) stopIntake() {
	d.srv.wg.Go(func() { d.http.Shutdown(context.Background()) })
}

// closeAll closes every connection, which also ends the wait stopIntake started.
func (d *dohService) closeAll() { d.http.Close() }

// closeRaw closes the connection under nc's TLS, if any, at once: no close_notify alert,
// which could wait for a client that does not read.
func closeRaw(nc net.Conn) {
	if tc, ok := nc.(*tls.Conn); ok {
		tc.NetConn().Close()
		return
	}
	nc.Close()
}

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
		http.Error(w, errDoHNoReply.Error(), http.StatusBadRequest)
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
		return dohGETQuery(r.URL.RawQuery)
	case http.MethodPost:
		if status, err := dohPOSTCheck(r.Header.Get("Content-Type"), r.ContentLength); err != nil {
			return nil, status, err
		}
		query, err := io.ReadAll(http.MaxBytesReader(w, r.Body, tcpMessageMax))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return nil, http.StatusRequestEntityTooLarge, errDoHTooLarge
		case err != nil:
			return nil, http.StatusBadRequest, fmt.Errorf("server: doh POST body: %w", err)
		}
		return query, 0, nil
	default:
		w.Header().Set("Allow", "GET, POST")
		return nil, http.StatusMethodNotAllowed, errDoHMethod
	}
}

// Why DoH requests are refused, as the body of the HTTP error.
var (
	errDoHMethod   = errors.New("server: doh takes GET or POST")
	errDoHTooLarge = fmt.Errorf("server: doh POST body over %d bytes", tcpMessageMax)
	errDoHNoReply  = errors.New("server: not a DNS query, or no reply")
)

// dohGETQuery decodes the query of a GET request from the raw query string of its URL,
// or returns the status that refuses it: one dns parameter, base64url without padding,
// at most dohMaxGETParam long (RFC 8484 §4.1, §6).
func dohGETQuery(rawQuery string) ([]byte, int, error) {
	values, ok := dnsParam(rawQuery)
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
}

// dohPOSTCheck judges a POST request by its headers: the body must be an
// application/dns-message no longer than a DNS message (contentLength -1: not given).
func dohPOSTCheck(contentType string, contentLength int64) (int, error) {
	if contentType != dohContentType {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil || mt != dohContentType {
			return http.StatusUnsupportedMediaType, fmt.Errorf("server: doh POST body must be %s", dohContentType)
		}
	}
	if contentLength > tcpMessageMax {
		return http.StatusRequestEntityTooLarge, errDoHTooLarge
	}
	return 0, nil
}

// dnsParam returns the values of the dns parameter in a raw query string, as
// url.URL.Query()["dns"] does, without building the map of every parameter when the query
// string needs no unescaping (the usual case: base64url is URL-safe).
func dnsParam(raw string) ([]string, bool) {
	if strings.ContainsAny(raw, "%+;") {
		parsed, _ := url.ParseQuery(raw) // as URL.Query: what parses is kept
		values, ok := parsed["dns"]
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

// countedConn gives its slot in a limitListener back when closed. It can also gather what
// is written to it (batch), for an HTTP/2 writer to send many TLS records in one system
// call.
type countedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once

	mu       sync.Mutex // guards batching and batch: Close may write an alert meanwhile
	batching bool
	batch    []byte
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// Write writes b, or appends it to the batch between startBatch and endBatch.
func (c *countedConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.batching {
		c.batch = append(c.batch, b...)
		c.mu.Unlock()
		return len(b), nil
	}
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// startBatch makes writes gather until endBatch.
func (c *countedConn) startBatch() {
	c.mu.Lock()
	c.batching = true
	c.mu.Unlock()
}

// endBatch writes what was gathered since startBatch, in one write.
func (c *countedConn) endBatch() error {
	c.mu.Lock()
	b := c.batch
	c.batching, c.batch = false, nil
	c.mu.Unlock()
	_, err := c.Conn.Write(b)
	c.mu.Lock()
	if c.batch == nil && cap(b) <= 4*h2WriteBatch {
		c.batch = b[:0] // reuse the buffer, unless a huge batch went through it
	}
	c.mu.Unlock()
	return err
}
