package server

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/miekg/dns"
)

// TestShutdownWaitsForInFlight sends one slow query over each transport, starts Shutdown
// while both are blocked in the handler, and checks that Shutdown returns only after they
// are answered, and that both ports are closed afterwards.
func TestShutdownWaitsForInFlight(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{}, 2)
	release := make(chan struct{})
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		entered <- struct{}{}
		<-release
		answerA(w, r)
	})
	srv, udpAddr, tcpAddr := startServer(t, Config{Handler: handler})
	u := dial(t, "udp", udpAddr)
	u.Write(query(t, 1, "slow.test."))
	c := dial(t, "tcp", tcpAddr)
	writeTCP(t, c, query(t, 2, "slow.test."))
	<-entered
	<-entered

	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	<-srv.closing
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) while queries were in flight", err)
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	checkAnswered(t, readUDP(t, u), 1, "udp")
	checkAnswered(t, unpack(t, readTCP(t, c)), 2, "tcp")
	expectClosed(t, c)
	if conn, err := net.Dial("tcp", tcpAddr); err == nil {
		conn.Close()
		t.Error("TCP port still accepts connections after Shutdown")
	}
	pc, err := net.ListenPacket("udp", udpAddr)
	if err != nil {
		t.Errorf("UDP port still bound after Shutdown: %v", err)
	} else {
		pc.Close()
	}
}

// TestShutdownClosesIdleTCP checks that an idle TCP connection does not hold Shutdown up
// until its idle timeout.
func TestShutdownClosesIdleTCP(t *testing.T) {
	t.Parallel()
	srv, _, tcpAddr := startServer(t, Config{TCPIdleTimeout: testTimeout * 10})
	c := dial(t, "tcp", tcpAddr)
	writeTCP(t, c, query(t, 3, "idle.test."))
	checkAnswered(t, unpack(t, readTCP(t, c)), 3, "tcp")

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	expectClosed(t, c)
}

// TestShutdownContextEnds checks that Shutdown gives up when its context ends while a
// handler is stuck, and says why.
func TestShutdownContextEnds(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	stuck := make(chan struct{})
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		close(entered)
		<-stuck
	})
	srv, udpAddr, _ := startServer(t, Config{Handler: handler})
	t.Cleanup(func() { close(stuck) }) // runs before startServer's final Shutdown
	u := dial(t, "udp", udpAddr)
	u.Write(query(t, 1, "stuck.test."))
	<-entered

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestListenAfterShutdown(t *testing.T) {
	t.Parallel()
	srv, _, _ := startServer(t, Config{})
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.ListenUDP("127.0.0.1:0"); !errors.Is(err, ErrClosed) {
		t.Errorf("ListenUDP after Shutdown = %v, want ErrClosed", err)
	}
	if _, err := srv.ListenTCP("127.0.0.1:0"); !errors.Is(err, ErrClosed) {
		t.Errorf("ListenTCP after Shutdown = %v, want ErrClosed", err)
	}
	if _, _, err := srv.Listen("127.0.0.1:0"); !errors.Is(err, ErrClosed) {
		t.Errorf("Listen after Shutdown = %v, want ErrClosed", err)
	}
}
