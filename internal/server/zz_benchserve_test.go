package server

import (
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Temporary harness for qgen; deleted after measuring.
func TestZZBenchServe(t *testing.T) {
	addr := os.Getenv("RENSA_BENCH_LISTEN")
	if addr == "" {
		t.Skip()
	}
	trivial := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		w.WriteMsg(m)
	})
	cfg := Config{Handler: trivial, Logger: slog.New(slog.DiscardHandler)}
	if os.Getenv("RENSA_BENCH_RAW") != "" {
		cfg.RawHandler = func(q []byte, _ string, _ net.Addr, out []byte) ([]byte, bool) {
			out = append(out[:0], q...)
			out[2] |= qrBit
			return out, true
		}
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Listen(addr); err != nil {
		t.Fatal(err)
	}
	time.Sleep(25 * time.Second)
}
