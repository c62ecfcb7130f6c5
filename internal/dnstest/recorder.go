package dnstest

import (
	"errors"
	"net"

	"github.com/miekg/dns"
)

// Recorder is a dns.ResponseWriter that keeps what the handler writes
// instead of sending it. It packs each message as a server would, so Wire
// holds the exact bytes and Msg their unpacked form.
type Recorder struct {
	// Net is the transport reported by Network: "udp" (when empty) or
	// "tcp".
	Net string
	// Remote is the client address; nil means 127.0.0.1:53000 on Net.
	Remote net.Addr
	// Wire is the last message written, as sent on the wire.
	Wire []byte
	// Msg is Wire unpacked, or nil when nothing was written.
	Msg *dns.Msg
	// Writes counts the messages written.
	Writes int
}

// NewRecorder returns a Recorder for network, "udp" or "tcp".
func NewRecorder(network string) *Recorder { return &Recorder{Net: network} }

// Network returns "udp" or "tcp": the transport a handler should size its
// reply for.
func (r *Recorder) Network() string {
	if r.Net == "" {
		return "udp"
	}
	return r.Net
}

// LocalAddr returns 127.0.0.1:53 on the recorder's transport.
func (r *Recorder) LocalAddr() net.Addr { return r.addr(net.IPv4(127, 0, 0, 1), 53) }

// RemoteAddr returns Remote, or 127.0.0.1:53000 on the recorder's
// transport.
func (r *Recorder) RemoteAddr() net.Addr {
	if r.Remote != nil {
		return r.Remote
	}
	return r.addr(net.IPv4(127, 0, 0, 1), 53000)
}

func (r *Recorder) addr(ip net.IP, port int) net.Addr {
	if r.Network() == "tcp" {
		return &net.TCPAddr{IP: ip, Port: port}
	}
	return &net.UDPAddr{IP: ip, Port: port}
}

// WriteMsg packs m and records it.
func (r *Recorder) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = r.Write(b)
	return err
}

// Write records b, which must be a whole DNS message.
func (r *Recorder) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, errors.Join(errors.New("dnstest: written message does not unpack"), err)
	}
	r.Wire = append([]byte(nil), b...)
	r.Msg = m
	r.Writes++
	return len(b), nil
}

// Close does nothing.
func (r *Recorder) Close() error { return nil }

// TsigStatus returns nil: the recorder checks no signatures.
func (r *Recorder) TsigStatus() error { return nil }

// TsigTimersOnly does nothing.
func (r *Recorder) TsigTimersOnly(bool) {}

// Hijack does nothing.
func (r *Recorder) Hijack() {}
