package resolver

import (
	"net"
	"runtime"

	"github.com/miekg/dns"
)

// recorder is a dns.ResponseWriter that keeps the reply; the client is
// 127.0.0.1 unless remote says otherwise.
type recorder struct {
	network string
	remote  net.Addr
	msg     *dns.Msg
}

func (w *recorder) LocalAddr() net.Addr {
	if w.network == "udp" {
		return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}
func (w *recorder) RemoteAddr() net.Addr {
	if w.remote != nil {
		return w.remote
	}
	if w.network == "udp" {
		return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (w *recorder) Network() string             { return w.network }
func (w *recorder) WriteMsg(m *dns.Msg) error   { w.msg = m; return nil }
func (w *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (w *recorder) Close() error                { return nil }
func (w *recorder) TsigStatus() error           { return nil }
func (w *recorder) TsigTimersOnly(bool)         {}
func (w *recorder) Hijack()                     {}

func runtimeGosched() { runtime.Gosched() }
