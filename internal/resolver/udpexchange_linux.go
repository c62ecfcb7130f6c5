//go:build linux

package resolver

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/transport"
)

// This file is the resolver's own UDP exchange, the default one when no
// Dial, SourceAddr or NoNearMissTCP is configured. It keeps every defence
// of transport.Do53 (a fresh socket, so a fresh random source port, per
// query, RFC 5452 §9.2; a crypto/rand ID; a reply accepted only from the
// server, with the ID and the question as sent, case included; TCP after
// TC=1 or after non-matching replies, RFC 5452 §9.1) and drops what
// profiling the cold path found it paid for nothing: net.Dial's address
// parsing, dialer and extra system calls (SO_BROADCAST, getsockname,
// getpeername), a 64 KiB buffer allocated per query, and a full
// pack-unpack of the query to match replies against. The socket is made
// with socket(2) and connect(2) and handed to the runtime's poller
// through os.NewFile, so waiting for the reply parks the goroutine, not
// the thread. TCP is left to transport.Do53.

// udpReplyMax is the receive buffer for one UDP reply: the largest
// datagram, so that no reply is cut short (a cut one would not unpack).
const udpReplyMax = 65535

// udpMaxNearMisses is how many non-matching datagrams one query ignores
// before it goes to TCP, as transport.Do53 does (RFC 5452 §9.1: a flood
// of forgeries is a reason to leave UDP).
const udpMaxNearMisses = 16

// headerSize is the fixed DNS header (RFC 1035 §4.1.1).
const headerSize = 12

// replyBufs recycles the receive buffers.
var replyBufs = sync.Pool{New: func() any { b := make([]byte, udpReplyMax); return &b }}

// defaultExchange is the ExchangeFunc New installs when Config.Exchange
// is nil: the fast UDP exchange of this file, or transport.Do53 when the
// configuration asks for what only it does (a Dial that maps ports, a
// fixed source address, near misses ignored).
func defaultExchange(dial func(ctx context.Context, network, addr string) (net.Conn, error),
	local netip.AddrPort, ignoreMisses bool) ExchangeFunc {
	slow := do53Exchange(dial, local, ignoreMisses)
	if dial != nil || local.IsValid() || ignoreMisses {
		return slow
	}
	return func(ctx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
		// One attempt, UDP and the TCP it may lead to, is bounded by
		// attemptTimeout, as transport.Do53 bounds it.
		deadline := time.Now().Add(attemptTimeout)
		if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
			deadline = dl
		}
		if tcp {
			return slow(ctx, server, m, true)
		}
		reply, misses, err := exchangeUDP(ctx, deadline, server, m)
		switch {
		case err == nil && !reply.Truncated:
			return reply, nil
		case err == nil, misses > 0 && ctx.Err() == nil && time.Now().Before(deadline) &&
			(errors.Is(err, transport.ErrTimeout) || errors.Is(err, transport.ErrMismatch)):
			tctx, cancel := context.WithDeadline(ctx, deadline)
			reply, err = slow(tctx, server, m, true)
			cancel()
		}
		if err != nil && misses > 0 && !errors.Is(err, transport.ErrMismatch) {
			err = fmt.Errorf("%w: %w", transport.ErrMismatch, err)
		}
		return reply, err
	}
}

// exchangeUDP sends m to server in one datagram from a fresh connected
// socket, with a random ID, and waits for the matching reply until
// deadline. It returns the reply (perhaps truncated), and how many
// datagrams did not match.
func exchangeUDP(ctx context.Context, deadline time.Time, server netip.AddrPort, m *dns.Msg) (*dns.Msg, int, error) {
	wire, err := m.Pack()
	if err != nil {
		return nil, 0, fmt.Errorf("resolver: packing query: %w", err)
	}
	if _, err := rand.Read(wire[:2]); err != nil {
		return nil, 0, fmt.Errorf("resolver: drawing a query ID: %w", err)
	}
	qEnd, ok := questionEnd(wire)
	if !ok {
		return nil, 0, errors.New("resolver: query has no single question")
	}
	f, err := connectedUDP(server)
	if err != nil {
		return nil, 0, fmt.Errorf("transport: udp %s: %w", server, err)
	}
	defer f.Close()
	if err := f.SetDeadline(deadline); err != nil {
		return nil, 0, fmt.Errorf("transport: udp %s: %w", server, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		// Cancelling ctx unblocks the read at once. The resolver's
		// queries all have a deadline (its query time), and the
		// attempt's bounds the read already: they skip this (an
		// allocation and a callback per upstream query).
		stop := context.AfterFunc(ctx, func() { f.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	if _, err := f.Write(wire); err != nil {
		return nil, 0, udpErr(ctx, server, err, 0)
	}
	bp := replyBufs.Get().(*[]byte)
	defer replyBufs.Put(bp)
	buf := *bp
	misses := 0
	for {
		n, err := f.Read(buf)
		if errors.Is(err, io.EOF) {
			n, err = 0, nil // an empty datagram: a near miss
		}
		if err != nil {
			return nil, misses, udpErr(ctx, server, err, misses)
		}
		if r := matchReply(wire[:qEnd], buf[:n]); r != nil {
			return r, misses, nil
		}
		misses++
		if misses >= udpMaxNearMisses {
			return nil, misses, fmt.Errorf("%w: udp %s: %d mismatched replies", transport.ErrMismatch, server, misses)
		}
	}
}

// connectedUDP opens a UDP socket connected to server, the system
// choosing a random source port, registered with the runtime's poller.
func connectedUDP(server netip.AddrPort) (*os.File, error) {
	family := syscall.AF_INET
	var sa syscall.Sockaddr
	if a := server.Addr().Unmap(); a.Is4() {
		sa = &syscall.SockaddrInet4{Port: int(server.Port()), Addr: a.As4()}
	} else {
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: int(server.Port()), Addr: a.As16()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := syscall.Connect(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("connect", err)
	}
	return os.NewFile(uintptr(fd), "udp"), nil
}

// questionEnd returns the offset just past the question of a packed
// query with exactly one question.
func questionEnd(wire []byte) (int, bool) {
	if len(wire) < headerSize || binary.BigEndian.Uint16(wire[4:]) != 1 {
		return 0, false
	}
	off := headerSize
	for off < len(wire) {
		l := int(wire[off])
		if l == 0 {
			off += 1 + 4 // the root label, QTYPE and QCLASS
			return off, off <= len(wire)
		}
		if l&0xc0 != 0 {
			return 0, false // the resolver's packer never compresses the first name
		}
		off += 1 + l
	}
	return 0, false
}

// matchReply returns b decoded when it is the reply to the query whose
// header and question are q: the same ID, QR set, one question equal to
// the query's byte for byte (name case included: 0x20). A reply whose
// records do not decode is kept when it has TC set (it only says "ask
// over TCP"). Nil otherwise.
func matchReply(q, b []byte) *dns.Msg {
	if len(b) < len(q) || b[0] != q[0] || b[1] != q[1] || b[2]&0x80 == 0 ||
		binary.BigEndian.Uint16(b[4:]) != 1 || string(b[headerSize:len(q)]) != string(q[headerSize:]) {
		return nil
	}
	r := new(dns.Msg)
	if err := r.Unpack(b); err != nil {
		if !r.Truncated {
			return nil
		}
		r.Answer, r.Ns, r.Extra = nil, nil, nil
	}
	return r
}

// udpErr turns the error that ended an attempt into the one the caller
// sees, as transport.Do53 words them: transport.ErrTimeout for the
// deadline, the context's error when it ended first.
func udpErr(ctx context.Context, server netip.AddrPort, err error, misses int) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) {
		return fmt.Errorf("transport: udp %s: %w", server, cerr)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: udp %s: no matching reply before the deadline (%d mismatched replies ignored)",
			transport.ErrTimeout, server, misses)
	}
	return fmt.Errorf("transport: udp %s: %w", server, err)
}
