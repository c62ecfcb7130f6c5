package transport

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DoT is an [Exchanger] for DNS over TLS (RFC 7858), port 853 by default.
//
// It keeps one TLS connection to the server and sends every exchange over it, pipelined:
// each in-flight query gets a random ID no other in-flight query has, and replies are
// matched to queries by ID and question, in whatever order they come (RFC 7766 §6.2.1.1).
// When the connection fails or the server closes it (idle timeout), the next exchange
// dials a new one; an exchange whose reused connection died before its reply retries once
// on a fresh one.
//
// The certificate is checked against the system roots by default, against CAFile if set,
// or against SPKIPin (RFC 7858 §4.2); see the fields. ALPN "dot" is offered.
//
// The zero value is not usable: Addr must be set. A DoT must not be copied after first use;
// it is safe for concurrent use. Close it to release its connection.
type DoT struct {
	// Addr is the server as host:port, e.g. "192.0.2.1:853" or "dns.example:853".
	Addr string

	// ServerName is the name the certificate must carry. Default: the host of Addr (an IP
	// address then must be in the certificate's IP SANs).
	ServerName string

	// TLSConfig is the base client configuration; it is cloned. Default: none.
	TLSConfig *tls.Config

	// CAFile is a PEM file of CA certificates trusted instead of the system roots.
	CAFile string

	// SPKIPin is the base64 SHA-256 digest of the server's SubjectPublicKeyInfo (see
	// [SPKIPin]). Set without CAFile, it replaces the chain check (RFC 7858 §4.2).
	SPKIPin string

	// Timeout bounds each exchange, the dial and handshake included when a connection is
	// needed. Zero means DefaultTimeout. The context bounds it too.
	Timeout time.Duration

	// Dial opens the TCP connection; network is "tcp" and addr is Addr. Nil means a
	// net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	setup    sync.Once
	tlsCfg   *tls.Config
	setupErr error

	mu   sync.Mutex // guards conn
	conn *streamConn
}

var _ Exchanger = (*DoT)(nil)

// Exchange sends m over the shared connection and returns the matching reply. It follows
// the [Exchanger] contract; the reply carries the ID the connection chose.
func (d *DoT) Exchange(ctx context.Context, m *dns.Msg) (*dns.Msg, error) {
	q, wire, err := packQuery(m)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeoutOr(d.Timeout))
	defer cancel()
	for attempt := 0; ; attempt++ {
		c, reused, err := d.connection(ctx)
		if err != nil {
			return nil, err
		}
		r, err := c.exchange(ctx, q, wire)
		if err == nil {
			return r, nil
		}
		var ce *connError
		if !errors.As(err, &ce) || !reused || attempt > 0 || ctx.Err() != nil {
			return nil, fmt.Errorf("transport: dot %s: %w", d.Addr, err)
		}
	}
}

// Close closes the connection, failing the exchanges in flight on it. The DoT stays
// usable: the next exchange dials again.
func (d *DoT) Close() error {
	d.mu.Lock()
	c := d.conn
	d.conn = nil
	d.mu.Unlock()
	if c != nil {
		return c.conn.Close()
	}
	return nil
}

// connection returns the live connection, dialling one if there is none; reused reports
// whether it was already open.
func (d *DoT) connection(ctx context.Context) (c *streamConn, reused bool, err error) {
	d.setup.Do(func() {
		d.tlsCfg, d.setupErr = tlsOptions{base: d.TLSConfig, serverName: firstNonEmpty(d.ServerName, hostOf(d.Addr)),
			caFile: d.CAFile, spkiPin: d.SPKIPin, alpn: []string{"dot"}}.config()
	})
	if d.setupErr != nil {
		return nil, false, d.setupErr
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil && d.conn.alive() {
		return d.conn, true, nil
	}
	nc, err := d.dial(ctx)
	if err != nil {
		return nil, false, err
	}
	d.conn = newStreamConn(nc)
	return d.conn, false, nil
}

// dial opens a TCP connection and runs the TLS handshake, both bounded by ctx.
func (d *DoT) dial(ctx context.Context) (net.Conn, error) {
	dial := d.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	raw, err := dial(ctx, "tcp", d.Addr)
	if err != nil {
		return nil, fmt.Errorf("transport: dot %s: %w", d.Addr, wrapTimeout(err))
	}
	tc := tls.Client(raw, d.tlsCfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("transport: dot %s: tls handshake: %w", d.Addr, wrapTimeout(err))
	}
	return tc, nil
}

// streamConn is one DoT connection shared by concurrent exchanges. Writers take turns under
// wmu; one reader goroutine, owned by the connection and ending when it closes, hands each
// reply to the exchange waiting for its ID.
type streamConn struct {
	conn  net.Conn
	slots chan struct{} // one token per query in flight
	wmu   sync.Mutex    // serialises writes to conn

	mu      sync.Mutex // guards pending and err
	pending map[uint16]chan []byte
	err     error // why reading stopped; nil while the connection lives
}

// connError is a failure of the connection itself (not of one exchange): the reply can no
// longer arrive on it, and a fresh connection may succeed.
type connError struct{ err error }

func (e *connError) Error() string { return "connection failed: " + e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

func newStreamConn(nc net.Conn) *streamConn {
	c := &streamConn{conn: nc, slots: make(chan struct{}, maxPipelined), pending: make(map[uint16]chan []byte)}
	go c.readLoop() // owned by c: ends when nc closes or fails
	return c
}

// alive reports whether the connection can still carry exchanges.
func (c *streamConn) alive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil
}

// exchange sends wire (the packed q, its ID to be chosen here) and waits for the reply.
func (c *streamConn) exchange(ctx context.Context, q *dns.Msg, wire []byte) (*dns.Msg, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, wrapTimeout(ctx.Err())
	}
	defer func() { <-c.slots }()
	id, ch, err := c.register()
	if err != nil {
		return nil, err
	}
	defer c.unregister(id)
	sent := *q
	sent.Id = id
	buf := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(wire)), uint16(len(wire)))
	buf = append(buf, wire...)
	binary.BigEndian.PutUint16(buf[2:], id)
	if err := c.write(ctx, buf); err != nil {
		return nil, err
	}
	select {
	case b, ok := <-ch:
		if !ok {
			return nil, &connError{c.failure()}
		}
		r, ok := match(&sent, b)
		if !ok {
			return nil, fmt.Errorf("%w: the reply with ID %d has another question", ErrMismatch, id)
		}
		return r, nil
	case <-ctx.Done():
		return nil, wrapTimeout(ctx.Err())
	}
}

// register picks a random ID no query in flight uses and a channel for its reply.
func (c *streamConn) register() (uint16, chan []byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, nil, &connError{c.err}
	}
	var b [2]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, nil, fmt.Errorf("transport: drawing a query ID: %w", err)
		}
		id := binary.BigEndian.Uint16(b[:])
		if _, taken := c.pending[id]; !taken {
			ch := make(chan []byte, 1)
			c.pending[id] = ch
			return id, ch, nil
		}
	}
}

func (c *streamConn) unregister(id uint16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, id)
}

func (c *streamConn) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// write sends one framed query; a failed write kills the connection.
func (c *streamConn) write(ctx context.Context, buf []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	deadline, _ := ctx.Deadline()
	c.conn.SetWriteDeadline(deadline)
	if _, err := c.conn.Write(buf); err != nil {
		c.conn.Close()
		return &connError{err}
	}
	return nil
}

// readLoop reads replies until the connection fails, and hands each to the exchange
// waiting for its ID; a reply nobody waits for (its exchange gave up) is dropped. When
// reading stops, every waiting exchange gets a closed channel.
func (c *streamConn) readLoop() {
	r := bufio.NewReader(c.conn)
	var err error
	for {
		var b []byte
		if b, err = readFramed(r); err != nil {
			break
		}
		if len(b) < headerLen {
			continue
		}
		c.mu.Lock()
		ch := c.pending[binary.BigEndian.Uint16(b)]
		delete(c.pending, binary.BigEndian.Uint16(b))
		c.mu.Unlock()
		if ch != nil {
			ch <- b
		}
	}
	c.conn.Close()
	if errors.Is(err, io.EOF) {
		err = errors.New("server closed the connection")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
}

// readFramed reads one message with its 2-byte length prefix (RFC 7766 §8).
func readFramed(r io.Reader) ([]byte, error) {
	var prefix [2]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(prefix[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// packQuery copies m with ID 0, pads it when it has EDNS (padding.go) and packs it; it
// returns the copy as decoded from its wire form (for matching replies) and the wire form.
func packQuery(m *dns.Msg) (*dns.Msg, []byte, error) {
	if m == nil {
		return nil, nil, errors.New("transport: nil query")
	}
	q := m.Copy()
	q.Id = 0
	if err := padQuery(q); err != nil {
		return nil, nil, fmt.Errorf("transport: packing query: %w", err)
	}
	wire, err := q.Pack()
	if err != nil {
		return nil, nil, fmt.Errorf("transport: packing query: %w", err)
	}
	if len(wire) > maxTCPMessage {
		return nil, nil, fmt.Errorf("transport: query is %d bytes, more than %d", len(wire), maxTCPMessage)
	}
	sent := new(dns.Msg)
	if err := sent.Unpack(wire); err != nil {
		return nil, nil, fmt.Errorf("transport: query does not decode: %w", err)
	}
	return sent, wire, nil
}

// timeoutOr returns d, or DefaultTimeout when d is zero.
func timeoutOr(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}

// wrapTimeout makes a deadline error wrap ErrTimeout.
func wrapTimeout(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
