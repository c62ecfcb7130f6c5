package transport

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Do53 is an [Exchanger] for classic DNS over UDP and TCP (port 53).
//
// Each exchange opens a fresh socket, so the OS picks a new random source
// port, and draws a fresh query ID from Rand. Over UDP it waits for a
// matching reply (see [Do53.ExchangeOutcome] for the rules) and retries
// over TCP when the reply is truncated (TC=1) or when only non-matching
// replies arrived. Over TCP messages carry the two-byte length prefix of
// RFC 7766.
//
// The zero value is not usable: Addr must be set. Other fields have working
// defaults. A Do53 is safe for concurrent use if Rand and Dial are; it is
// not modified by Exchange.
type Do53 struct {
	// Addr is the server as host:port, e.g. "192.0.2.1:53" or "[::1]:53".
	Addr string

	// Timeout bounds each attempt (one UDP send, or one TCP connection)
	// from dial to reply. Zero means DefaultTimeout. The context passed
	// to Exchange bounds the whole exchange.
	Timeout time.Duration

	// ForceTCP skips UDP and asks over TCP only.
	ForceTCP bool

	// Rand is the source of query IDs: two bytes are read per exchange.
	// Nil means crypto/rand.Reader. Tests inject a fixed stream.
	Rand io.Reader

	// Dial opens connections; network is "udp" or "tcp" and addr is Addr.
	// Nil means a net.Dialer. Tests and the testbed use it to map
	// addresses or ports.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// LocalAddr, when valid, is the local address of every attempt, and
	// its port, when nonzero, the source port of every UDP attempt. A
	// fixed port switches off source-port randomisation, the defence RFC
	// 5452 section 9.2 rests on: it exists for the lab and tests only,
	// which measure what that defence is worth, and no configuration
	// file reaches it. It is used only when Dial is nil; TCP always gets
	// a port chosen by the system. Default: the zero value, a fresh
	// random port per attempt.
	LocalAddr netip.AddrPort

	// IgnoreNearMisses keeps a UDP attempt waiting for its reply however
	// many non-matching replies arrive, and never moves the query to TCP
	// because of them: the RFC 5452 section 9.1 defence switched off. For
	// the lab and tests only, like LocalAddr. Default: false.
	IgnoreNearMisses bool
}

var _ Exchanger = (*Do53)(nil)

// Outcome describes how one [Do53] exchange went, for traces, the query
// command and the lab's counters.
type Outcome struct {
	// Network is "udp" or "tcp": the transport of the last attempt,
	// which carried the reply if there was one.
	Network string
	// Truncated reports that a UDP reply had TC=1 and the query was
	// repeated over TCP.
	Truncated bool
	// NearMisses counts received messages that were ignored because they
	// did not match the query (wrong ID, not a response, different
	// question or question case, undecodable), over all attempts.
	NearMisses int
	// Size is the wire size in bytes of the returned reply.
	Size int
}

// step is a state of the exchange: which attempt runs next.
type step int

const (
	stepUDP step = iota // ask over UDP
	stepTCP             // ask over TCP (forced, after TC=1 or after near misses)
)

// Exchange sends m to d.Addr and returns the matching reply. It follows
// the [Exchanger] contract.
func (d *Do53) Exchange(ctx context.Context, m *dns.Msg) (*dns.Msg, error) {
	r, _, err := d.ExchangeOutcome(ctx, m)
	return r, err
}

// ExchangeOutcome is Exchange that also reports how the exchange went. The
// Outcome is filled in on error too.
//
// A received message is the reply only if its ID equals the ID sent, its
// QR bit is set and its question section equals the query's, name case
// included (RFC 5452). Any other message is a near miss: it is counted and
// ignored, and the attempt keeps waiting until the deadline. When a UDP
// attempt ends without a reply after near misses, or after too many of
// them, the query is repeated over TCP (RFC 5452 section 9.1), as it is
// after a truncated UDP reply (RFC 7766 section 5). A truncated reply is
// not an answer: if the TCP attempt fails, ExchangeOutcome returns its
// error.
func (d *Do53) ExchangeOutcome(ctx context.Context, m *dns.Msg) (*dns.Msg, Outcome, error) {
	var out Outcome
	q, wire, err := d.prepare(m)
	if err != nil {
		return nil, out, err
	}
	st := stepUDP
	if d.ForceTCP {
		st = stepTCP
	}
	for {
		switch st {
		case stepUDP:
			out.Network = "udp"
			misses := out.NearMisses
			r, err := d.exchangeUDP(ctx, q, wire, &out)
			switch {
			case err == nil && !r.Truncated:
				return r, out, nil
			case err == nil:
				out.Truncated = true
				st = stepTCP
			case out.NearMisses > misses && ctx.Err() == nil && !d.IgnoreNearMisses &&
				(errors.Is(err, ErrTimeout) || errors.Is(err, ErrMismatch)):
				st = stepTCP
			default:
				return nil, out, err
			}
		case stepTCP:
			out.Network = "tcp"
			r, err := d.exchangeTCP(ctx, q, wire, &out)
			return r, out, err
		}
	}
}

// prepare checks the request, packs m (packUnmodified) and writes a fresh
// random ID into the packed header. It returns the query as sent, for
// matching replies against: its header and question section.
func (d *Do53) prepare(m *dns.Msg) (*dns.Msg, []byte, error) {
	if m == nil {
		return nil, nil, errors.New("transport: nil query")
	}
	if d.Addr == "" {
		return nil, nil, errors.New("transport: Do53.Addr is empty")
	}
	src := d.Rand
	if src == nil {
		src = rand.Reader
	}
	var id [2]byte
	if _, err := io.ReadFull(src, id[:]); err != nil {
		return nil, nil, fmt.Errorf("transport: drawing a query ID: %w", err)
	}
	wire, err := packUnmodified(m)
	if err != nil {
		return nil, nil, fmt.Errorf("transport: packing query: %w", err)
	}
	if len(wire) > maxTCPMessage {
		return nil, nil, fmt.Errorf("transport: query is %d bytes, more than %d", len(wire), maxTCPMessage)
	}
	copy(wire, id[:])
	sent, err := asSent(m, wire)
	if err != nil {
		return nil, nil, err
	}
	return sent, wire, nil
}

// packUnmodified packs m without writing to it: miekg's Pack stores the
// extended RCODE in the OPT record's header, so the OPT record is copied
// (m may be shared with concurrent exchanges; the Exchanger contract
// says m is not modified). The rest of m is only read: a deep copy of
// the whole message per query, as before, cost more than the exchange's
// own matching.
func packUnmodified(m *dns.Msg) ([]byte, error) {
	mm := *m
	if opt := m.IsEdns0(); opt != nil {
		mm.Extra = slices.Clone(m.Extra)
		for i, rr := range mm.Extra {
			if rr == dns.RR(opt) {
				own := *opt
				mm.Extra[i] = &own
			}
		}
	}
	return mm.Pack()
}

// asSent returns the query that wire, m packed with its new ID, is: what
// match compares replies with, its names in the presentation a decoded
// reply has. When every question name is already in that presentation
// (letters, digits, '-', '_', '*' and the dots between labels: nothing
// the decoder would escape) that is m's header and question section
// with the new ID, no decoding needed; otherwise wire is decoded.
func asSent(m *dns.Msg, wire []byte) (*dns.Msg, error) {
	plain := true
	for _, q := range m.Question {
		plain = plain && decodesAsIs(q.Name)
	}
	if plain {
		sent := &dns.Msg{MsgHdr: m.MsgHdr, Question: m.Question}
		sent.Id = binary.BigEndian.Uint16(wire)
		return sent, nil
	}
	sent := new(dns.Msg)
	if err := sent.Unpack(wire); err != nil {
		return nil, fmt.Errorf("transport: query does not decode: %w", err)
	}
	return sent, nil
}

// decodesAsIs reports whether the fully qualified name decodes from its
// wire form to the same string: no character the decoder escapes, no
// escape of its own, no empty label.
func decodesAsIs(name string) bool {
	if name == "." {
		return true
	}
	if len(name) < 2 || name[0] == '.' || name[len(name)-1] != '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
		case c == '.' && name[i-1] != '.':
		default:
			return false
		}
	}
	return true
}

// exchangeUDP sends wire in one datagram on a fresh connected socket and
// reads datagrams until one matches q, the deadline passes or
// maxNearMisses non-matching ones arrived.
func (d *Do53) exchangeUDP(ctx context.Context, q *dns.Msg, wire []byte, out *Outcome) (*dns.Msg, error) {
	conn, stop, err := d.dial(ctx, "udp")
	if err != nil {
		return nil, err
	}
	defer release(conn, stop)
	if _, err := conn.Write(wire); err != nil {
		return nil, d.attemptErr(ctx, "udp", err, 0)
	}
	bp := replyBufs.Get().(*[]byte)
	defer replyBufs.Put(bp)
	buf := *bp
	misses := 0
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, d.attemptErr(ctx, "udp", err, misses)
		}
		if r, ok := match(q, buf[:n]); ok {
			out.Size = n
			return r, nil
		}
		misses++
		out.NearMisses++
		if misses >= maxNearMisses && !d.IgnoreNearMisses {
			return nil, fmt.Errorf("%w: udp %s: %d mismatched replies", ErrMismatch, d.Addr, misses)
		}
	}
}

// exchangeTCP sends wire with its length prefix on a fresh connection and
// reads framed messages until one matches q.
func (d *Do53) exchangeTCP(ctx context.Context, q *dns.Msg, wire []byte, out *Outcome) (*dns.Msg, error) {
	conn, stop, err := d.dial(ctx, "tcp")
	if err != nil {
		return nil, err
	}
	defer release(conn, stop)
	framed := make([]byte, 2+len(wire))
	binary.BigEndian.PutUint16(framed, uint16(len(wire)))
	copy(framed[2:], wire)
	// One write for prefix and message (RFC 7766 section 8).
	if _, err := conn.Write(framed); err != nil {
		return nil, d.attemptErr(ctx, "tcp", err, 0)
	}
	var prefix [2]byte
	misses := 0
	for {
		if _, err := io.ReadFull(conn, prefix[:]); err != nil {
			return nil, d.attemptErr(ctx, "tcp", err, misses)
		}
		b := make([]byte, binary.BigEndian.Uint16(prefix[:]))
		if _, err := io.ReadFull(conn, b); err != nil {
			return nil, d.attemptErr(ctx, "tcp", err, misses)
		}
		if r, ok := match(q, b); ok {
			out.Size = len(b)
			return r, nil
		}
		misses++
		out.NearMisses++
		if misses >= maxNearMisses {
			return nil, fmt.Errorf("%w: tcp %s: %d mismatched replies", ErrMismatch, d.Addr, misses)
		}
	}
}

// datagramConn is what an attempt needs of its connection: a net.Conn,
// or on Linux the socket connectedUDP makes.
type datagramConn interface {
	io.ReadWriteCloser
	SetDeadline(time.Time) error
}

// replyBufs recycles the UDP receive buffers (maxUDPReply bytes each, so
// that no reply is cut short): one allocated per query was 7-10 % of a
// resolver's cold query in allocation and GC.
var replyBufs = sync.Pool{New: func() any { b := make([]byte, maxUDPReply); return &b }}

// dial opens a connection for one attempt, bounded by the attempt's
// deadline and by ctx. release(conn, stop) lets it go; stop is nil when
// nothing watches ctx. UDP without Dial or LocalAddr goes through
// connectedUDP where the system has it.
func (d *Do53) dial(ctx context.Context, network string) (datagramConn, func() bool, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn, err := d.open(ctx, network, deadline)
	if err != nil {
		return nil, nil, d.attemptErr(ctx, network, err, 0)
	}
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("transport: %s %s: %w", network, d.Addr, err)
	}
	if _, ok := ctx.Deadline(); ok {
		// The deadline set above already ends the attempt no later than
		// ctx's; cancelling ctx earlier is seen at the next attempt. (A
		// resolver's queries all have deadlines: this saves a callback
		// per upstream query, and a func to release it.)
		return conn, nil, nil
	}
	// Cancelling ctx unblocks reads and writes at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return conn, stop, nil
}

// release ends an attempt: it stops watching the context (stop, when
// dial set one) and closes the connection.
func release(conn io.Closer, stop func() bool) {
	if stop != nil {
		stop()
	}
	conn.Close()
}

// open makes the attempt's connection: connectedUDP for UDP to an IP
// address when neither Dial nor LocalAddr is set and the system has it,
// else Dial or a net.Dialer.
func (d *Do53) open(ctx context.Context, network string, deadline time.Time) (datagramConn, error) {
	if network == "udp" && d.Dial == nil && !d.LocalAddr.IsValid() {
		if server, err := netip.ParseAddrPort(d.Addr); err == nil {
			if conn, err := connectedUDP(server); !errors.Is(err, errors.ErrUnsupported) {
				return conn, err
			}
		}
	}
	dial := d.Dial
	if dial == nil {
		dial = d.dialer(network).DialContext
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return dial(dctx, network, d.Addr)
}

// dialer returns the default dialer for network, bound to LocalAddr when
// it is set (its port for UDP only).
func (d *Do53) dialer(network string) *net.Dialer {
	if !d.LocalAddr.IsValid() {
		return &net.Dialer{}
	}
	ip := d.LocalAddr.Addr().AsSlice()
	if network == "udp" {
		return &net.Dialer{LocalAddr: &net.UDPAddr{IP: ip, Port: int(d.LocalAddr.Port())}}
	}
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
}

// attemptErr turns the error that ended an attempt into the error the
// caller sees: the context's error if it is done, ErrTimeout for a
// deadline, ErrMismatch when the peer closed after only near misses, and
// the network error otherwise.
func (d *Do53) attemptErr(ctx context.Context, network string, err error, misses int) error {
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(dl) {
		// The socket deadline was the context's and fired first.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil {
		if errors.Is(cerr, context.DeadlineExceeded) {
			return fmt.Errorf("%w: %s %s: %w", ErrTimeout, network, d.Addr, cerr)
		}
		return fmt.Errorf("transport: %s %s: %w", network, d.Addr, cerr)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: %s %s: no matching reply before the deadline (%d mismatched replies ignored)",
			ErrTimeout, network, d.Addr, misses)
	}
	if misses > 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
		return fmt.Errorf("%w: %s %s: connection closed after %d mismatched replies", ErrMismatch, network, d.Addr, misses)
	}
	return fmt.Errorf("transport: %s %s: %w", network, d.Addr, err)
}
