package server

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// listenAttempts is how many ports Listen tries, asked for port 0, before giving up on
// finding one free for both UDP and TCP.
const listenAttempts = 20

// ListenUDP binds Config.UDPSockets UDP sockets to addr ("127.0.0.1:0" picks a free port)
// and serves them until Shutdown. It returns the bound address.
func (s *Server) ListenUDP(addr string) (net.Addr, error) {
	socks, err := s.bindUDP(addr)
	if err != nil {
		return nil, err
	}
	if err := s.startUDP(socks); err != nil {
		closeUDP(socks)
		return nil, err
	}
	return socks[0].conn.LocalAddr(), nil
}

// ListenTCP binds a TCP listener to addr ("127.0.0.1:0" picks a free port) and serves its
// connections until Shutdown. It returns the bound address.
func (s *Server) ListenTCP(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if err := s.startTCP(ln); err != nil {
		ln.Close()
		return nil, err
	}
	return ln.Addr(), nil
}

// Listen binds both UDP and TCP to addr and serves them until Shutdown. With port 0 it
// picks a port free for both.
func (s *Server) Listen(addr string) (udp, tcp net.Addr, err error) {
	ln, socks, err := s.bindBoth(addr)
	if err != nil {
		return nil, nil, err
	}
	if err := s.startUDP(socks); err != nil {
		ln.Close()
		closeUDP(socks)
		return nil, nil, err
	}
	if err := s.startTCP(ln); err != nil {
		ln.Close() // the UDP sockets are the Server's now; its Shutdown closes them
		return nil, nil, err
	}
	return socks[0].conn.LocalAddr(), ln.Addr(), nil
}

// bindBoth binds TCP, then UDP on the same port. Asked for port 0, it takes the port TCP
// got and tries another if UDP has it taken.
func (s *Server) bindBoth(addr string) (net.Listener, []*udpSocket, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("server: %w", err)
	}
	for attempt := 1; ; attempt++ {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("server: %w", err)
		}
		socks, err := s.bindUDP(ln.Addr().String())
		if err == nil {
			return ln, socks, nil
		}
		ln.Close()
		if port != "0" || !errors.Is(err, syscall.EADDRINUSE) || attempt == listenAttempts {
			return nil, nil, err
		}
	}
}

// bindUDP binds the UDP sockets for addr, ready to start.
func (s *Server) bindUDP(addr string) ([]*udpSocket, error) {
	conns, err := s.openUDPGroup(addr, s.cfg.UDPSockets)
	if err != nil {
		return nil, err
	}
	socks := make([]*udpSocket, len(conns))
	for i, c := range conns {
		socks[i] = newUDPSocket(s, c)
	}
	return socks, nil
}

// openUDPGroup binds n UDP sockets to addr, sharing one port with SO_REUSEPORT. The first
// socket is bound without SO_REUSEPORT and gets it afterwards: Linux, picking a port for a
// port-0 bind with SO_REUSEPORT set, may hand out a port another reuseport group of the same
// user already holds, and the two servers would silently share its traffic.
func (s *Server) openUDPGroup(addr string, n int) ([]udpConn, error) {
	first, err := s.openUDP(addr, false)
	if err != nil {
		return nil, err
	}
	conns := []udpConn{first}
	if n > 1 {
		err = s.joinReusePortGroup(&conns, n)
	}
	if err != nil {
		closeConns(conns)
		return nil, err
	}
	return conns, nil
}

// joinReusePortGroup turns (*conns)[0] into a reuseport group and adds sockets to it until
// it has n.
func (s *Server) joinReusePortGroup(conns *[]udpConn, n int) error {
	first := (*conns)[0]
	if err := first.setReusePort(); err != nil {
		return fmt.Errorf("server: set SO_REUSEPORT: %w", err)
	}
	bound := first.LocalAddr().String()
	for len(*conns) < n {
		c, err := s.openUDP(bound, true)
		if err != nil {
			return err
		}
		*conns = append(*conns, c)
	}
	return nil
}

func closeConns(conns []udpConn) {
	for _, c := range conns {
		c.close()
	}
}

func closeUDP(socks []*udpSocket) {
	for _, u := range socks {
		u.conn.close()
	}
}
