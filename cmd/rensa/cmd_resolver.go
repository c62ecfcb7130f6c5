package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/rensa-dns/rensa/internal/config"
	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/server"
)

var _ = register(command{
	name:    "resolver",
	summary: "run a recursive (cache) resolver",
	usage:   resolverUsage,
	run:     resolverMain,
})

const resolverUsage = `usage: rensa resolver [--listen ADDR]... [--root-hints FILE] [--allow CIDR]... [flags]

Run a full-service recursive resolver over UDP and TCP until interrupted
(SIGINT or SIGTERM). It resolves from the root down, with QNAME
minimisation, 0x20 and random IDs and ports upstream, a ranked cache, and
the work bounds of LIMITS.md; failures are SERVFAIL with an Extended DNS
Error (RFC 8914).

Only clients in the --allow ranges get answers; the default is loopback and
the private ranges (RFC 1918, RFC 4193, link-local), so it is never an open
resolver by accident. Others get REFUSED.

ADDR is IP:PORT (default 127.0.0.1:53); port 0 picks a free port. The
bound addresses are printed to stderr ("rensa: listening on udp ..., tcp
..."). FILE is in the format of IANA's named.root; the default is the
built-in IANA root servers ("rensa testbed" writes one for its servers).

Examples:
  rensa resolver --listen 127.0.0.1:5300
  rensa resolver --listen 127.0.0.1:5300 --root-hints testbed.hints
  rensa resolver --listen 0.0.0.0:53 --allow 192.0.2.0/24 --allow 127.0.0.0/8
  rensa query @127.0.0.1:5300 www.example.test A

Flags:
`

// resolverOptions is what "rensa resolver" (or the [resolver] section of
// "rensa serve") was told.
type resolverOptions struct {
	listen     []string
	rootHints  string
	allow      []netip.Prefix
	cacheBytes int
	serveStale time.Duration

	// dial replaces the upstream network; tests give the testbed's port
	// mapping. Nil means the real network.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (o *resolverOptions) addFlags(fs *flag.FlagSet) {
	fs.Func("listen", "serve UDP and TCP on `ADDR` (IP:PORT; repeatable; default "+config.DefaultListen+")", func(s string) error {
		o.listen = append(o.listen, s)
		return nil
	})
	fs.StringVar(&o.rootHints, "root-hints", "", "root hints `FILE` (named.root format; default: the IANA root servers)")
	fs.Func("allow", "answer clients in `CIDR` (repeatable; default loopback and private ranges)", func(s string) error {
		var p config.Prefix
		if err := p.UnmarshalText([]byte(s)); err != nil {
			return err
		}
		o.allow = append(o.allow, p.Prefix)
		return nil
	})
	fs.IntVar(&o.cacheBytes, "cache-bytes", 0, "bound the cache to `N` bytes (default 64 MiB)")
	fs.DurationVar(&o.serveStale, "serve-stale", 0, "serve expired answers up to `AGE` old when no server answers (RFC 8767; default off)")
}

func resolverMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts resolverOptions
	fs := newFlagSet("resolver", resolverUsage, stderr)
	opts.addFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errUsage("unexpected argument %q", rest[0])
	}
	if opts.cacheBytes < 0 || opts.serveStale < 0 {
		return errUsage("--cache-bytes and --serve-stale must not be negative")
	}
	return runResolver(ctx, opts, stdout, stderr)
}

// runResolver serves recursive queries until ctx ends.
func runResolver(ctx context.Context, opts resolverOptions, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	stop, err := startResolver(opts, stderr, logger)
	if err != nil {
		return err
	}
	defer stop()
	<-ctx.Done()
	logger.Info("stopping")
	return nil
}

// startResolver builds the resolver, listens on every address and returns
// a function that shuts the listeners down.
func startResolver(opts resolverOptions, stderr io.Writer, logger *slog.Logger) (stop func(), err error) {
	cfg := resolver.Config{Allow: opts.allow, CacheBytes: opts.cacheBytes, ServeStale: opts.serveStale, Dial: opts.dial, Logger: logger}
	if opts.rootHints != "" {
		f, err := os.Open(opts.rootHints)
		if err != nil {
			return nil, err
		}
		cfg.Hints, err = resolver.ParseHints(f, opts.rootHints)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	res, err := resolver.New(cfg)
	if err != nil {
		return nil, err
	}
	srv, err := server.New(server.Config{Handler: res, Logger: logger})
	if err != nil {
		return nil, err
	}
	listen := opts.listen
	if len(listen) == 0 {
		listen = []string{config.DefaultListen}
	}
	for _, addr := range listen {
		udp, tcp, err := srv.Listen(addr)
		if err != nil {
			shutdownServer(srv, logger)
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		fmt.Fprintf(stderr, "rensa: resolver listening on udp %s, tcp %s\n", udp, tcp)
	}
	return func() { shutdownServer(srv, logger) }, nil
}

// startConfiguredResolver starts the resolver of a configuration file's
// [resolver] section for "rensa serve", if it lists addresses; stop is a
// no-op otherwise.
func startConfiguredResolver(cfg *config.Config, stderr io.Writer) (stop func(), err error) {
	rc := cfg.Resolver
	if len(rc.Listen) == 0 {
		return func() {}, nil
	}
	opts := resolverOptions{rootHints: rc.RootHintsPath(cfg.File), cacheBytes: rc.CacheBytes, serveStale: rc.ServeStale}
	for _, a := range rc.Listen {
		opts.listen = append(opts.listen, a.String())
	}
	for _, p := range rc.Allow {
		opts.allow = append(opts.allow, p.Prefix)
	}
	return startResolver(opts, stderr, slog.New(slog.NewTextHandler(stderr, nil)))
}
