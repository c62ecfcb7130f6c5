// Package testresolver starts, for a test, a loopback DNS hierarchy and
// rensa's resolver over it, so that code which needs "a resolver" (the
// audits, the commands) is tested against the real one, not a double:
//
//	addr := testresolver.Start(t, nil) // the default testbed hierarchy
//	c := &transport.Do53{Addr: addr}
//
// Everything it starts is stopped by t.Cleanup.
package testresolver

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/testbed"
)

// shutdownWait bounds how long cleanup waits for the resolver's server.
const shutdownWait = 5 * time.Second

// Start runs a testbed of specs (nil: the default hierarchy) on free
// loopback ports and rensa's resolver over it, without validation, served
// over UDP and TCP on 127.0.0.1, and returns the resolver's address.
func Start(t testing.TB, specs []testbed.ZoneSpec) string {
	t.Helper()
	tb, err := testbed.Start(context.Background(), testbed.Config{Port: testbed.PortFree, Zones: specs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	hints, err := resolver.ParseHints(strings.NewReader(tb.RootHints()), "root.hints")
	if err != nil {
		t.Fatal(err)
	}
	r, err := resolver.New(resolver.Config{Hints: hints, Dial: tb.Dial})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Handler: r, Logger: slog.New(slog.DiscardHandler), UDPSockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	udp, _, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return udp.String()
}
