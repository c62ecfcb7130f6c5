package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// TestUDPFDCloseWaitsForCalls pins the descriptor's lifetime: close while a system call
// holds it leaves the descriptor open until that call releases it, and once closed no call
// can acquire it.
func TestUDPFDCloseWaitsForCalls(t *testing.T) {
	c, err := openUDPSocket("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	s := c.(*udpFD)
	open := func() bool {
		_, err := unix.FcntlInt(uintptr(s.fd), unix.F_GETFD, 0)
		return err == nil
	}
	if !s.acquire() {
		t.Fatal("acquire on an open socket failed")
	}
	s.close()
	if !open() {
		t.Fatal("close closed the descriptor while a call held it")
	}
	if s.acquire() {
		t.Fatal("acquire succeeded after close")
	}
	s.release()
	if open() {
		t.Fatal("the last release after close left the descriptor open")
	}
	s.close() // idempotent: must not close the number again
}

// TestBatchIOClosedNoReuse shows that once a socket is closed, its batch I/O never hands its
// old descriptor number to the kernel again, though another socket may hold that number
// now. The test puts a UDP socket on the number itself (dup2) and checks that a reply
// written through the closed socket reaches no one. It must not run in parallel: dup2 onto a
// number another test may be about to use would break that test.
func TestBatchIOClosedNoReuse(t *testing.T) {
	c, err := openUDPSocket("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	s := c.(*udpFD)
	io := s.newIO(4)
	client := listenLoopback(t, "127.0.0.1:0")
	to := client.LocalAddr().(*net.UDPAddr).AddrPort()
	s.close()
	reuse := takeOverNumber(t, s.fd)
	defer reuse()

	if _, err := io.writeBatch([]datagram{{buf: []byte("stale"), addr: to}}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("writeBatch after close = %v, want net.ErrClosed", err)
	}
	if _, err := io.readBatch(newDatagrams(4, 16)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("readBatch after close = %v, want net.ErrClosed", err)
	}
	expectNoDatagram(t, client)
}

// TestShutdownLateReplyNotSent is the server-level case: a handler that outlives Shutdown
// (its context ended) replies after the sockets are closed, while another socket holds the
// old descriptor number. The reply must not go out through it.
func TestShutdownLateReplyNotSent(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		close(entered)
		<-release
		answerA(w, r)
	})
	srv := newUnstartedServer(t, Config{Handler: handler, UDPSockets: 1})
	addr, err := srv.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fd := srv.udp[0].conn.(*udpFD).fd
	// Not connected: a connected client would drop a datagram from any other socket.
	client := listenLoopback(t, "127.0.0.1:0")
	client.WriteToUDPAddrPort(query(t, 1, "late.test."), addr.(*net.UDPAddr).AddrPort())
	<-entered

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown with a cancelled context = %v, want context.Canceled", err)
	}
	reuse := takeOverNumber(t, fd)
	defer reuse()
	close(release)
	srv.wg.Wait() // the reader, the worker and its reply write are done
	expectNoDatagram(t, client)
}

// takeOverNumber puts a fresh UDP socket, connected to nothing, on descriptor number fd
// (which must be closed) and returns the function that closes it again.
func takeOverNumber(t *testing.T, fd int) func() {
	t.Helper()
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
		t.Fatalf("descriptor %d is still open", fd)
	}
	other, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(other, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if other != fd { // the lowest free number is usually fd itself
		err := unix.Dup3(other, fd, unix.O_CLOEXEC)
		unix.Close(other)
		if err != nil {
			t.Fatal(err)
		}
	}
	return func() { unix.Close(fd) }
}

// expectNoDatagram fails the test if c has a datagram queued. On loopback a datagram is
// queued at its receiver by the time the send returns, so no waiting is needed. (A read
// with a past deadline would not do: Go reports the deadline without trying to read.)
func expectNoDatagram(t *testing.T, c *net.UDPConn) {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var readErr error
	buf := make([]byte, 512)
	err = raw.Read(func(fd uintptr) bool {
		n, _, readErr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
		return true // one try, never wait
	})
	if err != nil {
		t.Fatal(err)
	}
	if readErr == nil {
		t.Errorf("a datagram of %d octets arrived through a reused descriptor", n)
	}
}

// TestOpenUDPSocketOptions checks the options the owned socket is opened with:
// close-on-exec, the buffers asked for (as far as the system allows), SO_REUSEPORT only
// when asked, path MTU information ignored, and dual stack for a wildcard.
func TestOpenUDPSocketOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr      string
		reusePort bool
		family    int
	}{
		{"127.0.0.1:0", false, unix.AF_INET},
		{"127.0.0.1:0", true, unix.AF_INET},
		{"[::1]:0", false, unix.AF_INET6},
		{"0.0.0.0:0", false, unix.AF_INET6},
	} {
		c, err := openUDPSocket(tc.addr, tc.reusePort)
		if err != nil {
			t.Logf("%s: %v (skipped)", tc.addr, err)
			continue
		}
		s := c.(*udpFD)
		fdFlags, _ := unix.FcntlInt(uintptr(s.fd), unix.F_GETFD, 0)
		reuse, _ := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_REUSEPORT)
		rcv, _ := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
		pmtu, _ := unix.GetsockoptInt(s.fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER)
		switch {
		case s.family != tc.family:
			t.Errorf("%s: family %d, want %d", tc.addr, s.family, tc.family)
		case pmtu != unix.IP_PMTUDISC_OMIT:
			t.Errorf("%s: IP_MTU_DISCOVER = %d, want IP_PMTUDISC_OMIT", tc.addr, pmtu)
		case fdFlags&unix.FD_CLOEXEC == 0:
			t.Errorf("%s: socket is not close-on-exec", tc.addr)
		case (reuse != 0) != tc.reusePort:
			t.Errorf("%s: SO_REUSEPORT = %d, want %v", tc.addr, reuse, tc.reusePort)
		case rcv < 2*defaultRcvBuf(t):
			t.Errorf("%s: SO_RCVBUF = %d, not raised from the default", tc.addr, rcv)
		}
		if tc.addr == "0.0.0.0:0" { // (binding a specific IPv6 address sets IPV6_V6ONLY)
			if v6only, _ := unix.GetsockoptInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); v6only != 0 {
				t.Errorf("%s: IPV6_V6ONLY is set", tc.addr)
			}
		}
		if tc.family == unix.AF_INET6 {
			if pmtu6, _ := unix.GetsockoptInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER); pmtu6 != unix.IPV6_PMTUDISC_OMIT {
				t.Errorf("%s: IPV6_MTU_DISCOVER = %d, want IPV6_PMTUDISC_OMIT", tc.addr, pmtu6)
			}
		}
		c.close()
	}
}

// defaultRcvBuf returns the receive buffer a fresh UDP socket gets.
func defaultRcvBuf(t *testing.T) int {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	n, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	return n
}

// TestUDPFDUnwatchedWhileBusy pins why the server owns its sockets: a socket whose reader
// finds datagrams queued is on no epoll set, so the replies it sends wake nothing; one whose
// reader waits for input is watched. The reader's epoll instance is read from
// /proc/self/fdinfo, whose "tfd:" lines are the descriptors it watches.
func TestUDPFDUnwatchedWhileBusy(t *testing.T) {
	t.Parallel()
	c := openLoopback(t, openUDPSocket, "127.0.0.1:0")
	s := c.(*udpFD)
	var epfd uintptr
	if err := s.wait.Control(func(fd uintptr) { epfd = fd }); err != nil {
		t.Fatal(err)
	}
	watched := func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", epfd))
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Contains(b, fmt.Appendf(nil, "tfd: %8d ", s.fd))
	}
	io := s.newIO(4)
	read := startWaitingReader(t, io)
	if !watched() {
		t.Error("the socket is not watched while its reader waits")
	}
	client := listenLoopback(t, "127.0.0.1:0")
	client.WriteToUDPAddrPort([]byte("query"), addrPort(c))
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	client.WriteToUDPAddrPort([]byte("query"), addrPort(c))
	if n, err := io.readBatch(newDatagrams(4, 16)); n != 1 || err != nil {
		t.Fatalf("readBatch = %d, %v", n, err)
	}
	if watched() {
		t.Error("a read that found a datagram queued left the socket watched")
	}
}
