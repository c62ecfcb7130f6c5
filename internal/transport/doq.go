package transport

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/quic-go/quic-go"
)

// DoQ is an [Exchanger] for DNS over QUIC (RFC 9250), port 853 by default.
//
// It keeps one QUIC connection to the server and sends each query on a new bidirectional
// stream of it, with message ID 0 and the 2-byte length prefix (RFC 9250 §4.2); the stream
// carries the one reply back. When the connection fails or idles out, the next exchange
// dials a new one; an exchange whose reused connection died retries once on a fresh one.
//
// Certificates are checked as for [DoT]; ALPN "doq" is offered. The zero value is not
// usable: Addr must be set. A DoQ must not be copied after first use; it is safe for
// concurrent use. Close it to release its connection.
type DoQ struct {
	// Addr is the server as host:port (UDP), e.g. "192.0.2.1:853".
	Addr string

	// ServerName, TLSConfig, CAFile and SPKIPin check the server's certificate as for [DoT].
	ServerName string
	TLSConfig  *tls.Config
	CAFile     string
	SPKIPin    string

	// Timeout bounds each exchange, the handshake included when a connection is needed.
	// Zero means DefaultTimeout. The context bounds it too.
	Timeout time.Duration

	setup    sync.Once
	tlsCfg   *tls.Config
	setupErr error

	mu   sync.Mutex // guards conn
	conn *quic.Conn
}

var _ Exchanger = (*DoQ)(nil)

// Exchange sends m on a new stream and returns the reply. It follows the [Exchanger]
// contract; the reply carries ID 0, as sent.
func (d *DoQ) Exchange(ctx context.Context, m *dns.Msg) (*dns.Msg, error) {
	q, wire, err := packQuery(m)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeoutOr(d.Timeout))
	defer cancel()
	for attempt := 0; ; attempt++ {
		conn, reused, err := d.connection(ctx)
		if err != nil {
			return nil, err
		}
		r, err := d.exchangeStream(ctx, conn, q, wire)
		if err == nil {
			return r, nil
		}
		var ce *connError
		if !errors.As(err, &ce) || !reused || attempt > 0 || ctx.Err() != nil {
			return nil, fmt.Errorf("transport: doq %s: %w", d.Addr, err)
		}
	}
}

// exchangeStream sends wire on a new stream of conn and reads the reply.
func (d *DoQ) exchangeStream(ctx context.Context, conn *quic.Conn, q *dns.Msg, wire []byte) (*dns.Msg, error) {
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, wrapTimeout(ctx.Err())
		}
		return nil, &connError{err}
	}
	defer st.CancelRead(0)
	if deadline, ok := ctx.Deadline(); ok {
		st.SetDeadline(deadline)
	}
	buf := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(wire)), uint16(len(wire)))
	if _, err := st.Write(append(buf, wire...)); err != nil {
		return nil, d.streamError(conn, err)
	}
	st.Close() // FIN: the query is complete (RFC 9250 §4.2)
	b, err := readFramed(st)
	if err != nil {
		return nil, d.streamError(conn, err)
	}
	r, ok := match(q, b)
	if !ok {
		return nil, ErrMismatch
	}
	return r, nil
}

// streamError classifies a stream failure: a dead connection may be retried on a new one;
// a timeout or a reset stream may not.
func (d *DoQ) streamError(conn *quic.Conn, err error) error {
	if conn.Context().Err() != nil {
		return &connError{err}
	}
	return wrapTimeout(err)
}

// Close closes the connection, failing the exchanges in flight on it. The DoQ stays
// usable: the next exchange dials again.
func (d *DoQ) Close() error {
	d.mu.Lock()
	c := d.conn
	d.conn = nil
	d.mu.Unlock()
	if c != nil {
		return c.CloseWithError(0, "")
	}
	return nil
}

// connection returns the live connection, dialling one if there is none; reused reports
// whether it was already open.
func (d *DoQ) connection(ctx context.Context) (*quic.Conn, bool, error) {
	d.setup.Do(func() {
		d.tlsCfg, d.setupErr = tlsOptions{base: d.TLSConfig, serverName: firstNonEmpty(d.ServerName, hostOf(d.Addr)),
			caFile: d.CAFile, spkiPin: d.SPKIPin, alpn: []string{"doq"}}.config()
		if d.tlsCfg != nil {
			d.tlsCfg.MinVersion = tls.VersionTLS13 // QUIC is TLS 1.3 only (RFC 9001 §4.2)
		}
	})
	if d.setupErr != nil {
		return nil, false, d.setupErr
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil && d.conn.Context().Err() == nil {
		return d.conn, true, nil
	}
	conn, err := quic.DialAddr(ctx, d.Addr, d.tlsCfg, &quic.Config{
		HandshakeIdleTimeout:  timeoutOr(d.Timeout),
		MaxIdleTimeout:        doqIdleTimeout,
		MaxIncomingStreams:    -1, // the server opens no streams (RFC 9250 §4.2)
		MaxIncomingUniStreams: -1,
	})
	if err != nil {
		return nil, false, fmt.Errorf("transport: doq %s: %w", d.Addr, wrapTimeout(err))
	}
	d.conn = conn
	return conn, false, nil
}
