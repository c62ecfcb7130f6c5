package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/miekg/dns"
)

// This file holds the loopback servers the tests talk to. Each one listens
// on 127.0.0.1:0, is owned by the test that starts it and is shut down in
// t.Cleanup.

// serveDNS runs a miekg dns.Server for h over network ("udp" or "tcp")
// and returns its address.
func serveDNS(t *testing.T, network string, h dns.HandlerFunc) string {
	t.Helper()
	srv := &dns.Server{Handler: h}
	var addr string
	switch network {
	case "udp":
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.PacketConn, addr = pc, pc.LocalAddr().String()
	case "tcp":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.Listener, addr = l, l.Addr().String()
	}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("dns server: %v", err)
	}
	t.Cleanup(func() {
		srv.Shutdown()
		<-done
	})
	return addr
}

// replyFunc returns the messages a raw server sends back to query q, in
// order. It runs on the server goroutine: report problems with t.Error.
type replyFunc func(q *dns.Msg) [][]byte

// rawUDP runs a UDP server that answers each query with the datagrams
// reply returns, and returns its address.
func rawUDP(t *testing.T, reply replyFunc) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed by Cleanup
			}
			q := new(dns.Msg)
			if err := q.Unpack(buf[:n]); err != nil {
				t.Errorf("raw udp server: bad query: %v", err)
				continue
			}
			for _, b := range reply(q) {
				if _, err := pc.WriteTo(b, from); err != nil {
					t.Errorf("raw udp server: %v", err)
				}
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return pc.LocalAddr().String()
}

// rawTCP runs a TCP server that reads one framed query per connection,
// writes the framed messages reply returns and closes the connection.
func rawTCP(t *testing.T, reply replyFunc) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed by Cleanup
			}
			serveRawTCP(t, c, reply)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return l.Addr().String()
}

func serveRawTCP(t *testing.T, c net.Conn, reply replyFunc) {
	defer c.Close()
	var prefix [2]byte
	if _, err := io.ReadFull(c, prefix[:]); err != nil {
		t.Errorf("raw tcp server: %v", err)
		return
	}
	b := make([]byte, binary.BigEndian.Uint16(prefix[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Errorf("raw tcp server: %v", err)
		return
	}
	q := new(dns.Msg)
	if err := q.Unpack(b); err != nil {
		t.Errorf("raw tcp server: bad query: %v", err)
		return
	}
	for _, m := range reply(q) {
		framed := binary.BigEndian.AppendUint16(nil, uint16(len(m)))
		if _, err := c.Write(append(framed, m...)); err != nil {
			t.Errorf("raw tcp server: %v", err)
		}
	}
}

// errNoListener is what mapDial returns for a network the test has no
// server for.
var errNoListener = errors.New("no listener for this network in this test")

// mapDial returns a Do53.Dial that sends UDP to udpAddr and TCP to
// tcpAddr, whatever Addr says; an empty address fails the dial. It records
// the networks dialled, in order, in *log if log is not nil; the test must
// read it only after Exchange returns.
func mapDial(udpAddr, tcpAddr string, log *[]string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		if log != nil {
			*log = append(*log, network)
		}
		target := udpAddr
		if network == "tcp" {
			target = tcpAddr
		}
		if target == "" {
			return nil, errNoListener
		}
		return (&net.Dialer{}).DialContext(ctx, network, target)
	}
}

// reply builds the reply to q with the given answer records.
func reply(q *dns.Msg, answers ...string) *dns.Msg {
	r := new(dns.Msg)
	r.SetReply(q)
	for _, s := range answers {
		r.Answer = append(r.Answer, mustRR(s))
	}
	return r
}

func mustRR(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return rr
}

// wire packs m; it panics on error, which only a broken test causes.
func wire(m *dns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

// query returns an A query for name with RD set, as a stub would send.
func query(name string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	return m
}
