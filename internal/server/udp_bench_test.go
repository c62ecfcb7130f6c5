package server

import (
	"net"
	"testing"
)

// BenchmarkUDPRoundTrip measures one query at a time over loopback, the client in this
// process: the latency of the UDP path when the server is idle between queries, so that
// its reader waits for each datagram. "inline" is answered by RawHandler on the reader's
// goroutine, "handler" by a worker; with -cpu 1 everything shares one P, so any time a
// runnable goroutine waits for the P shows here.
func BenchmarkUDPRoundTrip(b *testing.B) {
	raw := func(q []byte, _ string, _ net.Addr, out []byte) ([]byte, bool) {
		if len(q) < headerLen || q[headerLen+1] != 'i' { // "inline.test." only
			return nil, false
		}
		out = append(out[:0], q...)
		out[2] |= qrBit
		return out, true
	}
	for _, name := range []string{"inline", "handler"} {
		b.Run(name, func(b *testing.B) {
			_, udpAddr, _ := startServer(b, Config{RawHandler: raw, UDPSockets: 1})
			c := dial(b, "udp", udpAddr)
			q := query(b, 1, name+".test.")
			buf := make([]byte, 512)
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.Write(q); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Read(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
