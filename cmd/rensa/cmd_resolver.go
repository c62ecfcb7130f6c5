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
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/server"
)

var _ = register(command{
	name:    "resolver",
	summary: "run a recursive (cache) resolver",
	usage:   resolverUsage,
	run:     resolverMain,
})

const resolverUsage = `usage: rensa resolver [--listen [SCHEME://]ADDR]... [--tls-cert FILE --tls-key FILE | --tls-self-signed DIR]
                      [--root-hints FILE | --forward URL... [--forward-ca FILE]]
                      [--allow CIDR]... [flags]

Run a full-service recursive resolver over UDP and TCP, and optionally DNS
over TLS, HTTPS and QUIC, until interrupted (SIGINT or SIGTERM). It
resolves from the root down, with QNAME minimisation, 0x20 and random IDs
and ports upstream, a ranked cache, and the work bounds of LIMITS.md;
failures are SERVFAIL with an Extended DNS Error (RFC 8914).

Only clients in the --allow ranges get answers; the default is loopback and
the private ranges (RFC 1918, RFC 4193, link-local), so it is never an open
resolver by accident. Others get REFUSED. On a --listen address other than
loopback, --allow ranges beyond loopback and the private ones (0.0.0.0/0, a
public /24) make it refuse to start unless --open-resolver says so: an open
resolver reflects forged queries at their victims, amplified ("rensa audit
amp" measures how much).

ADDR is IP:PORT (default 127.0.0.1:53), served over UDP and TCP; port 0
picks a free port. tls://IP[:PORT] serves DNS over TLS (RFC 7858, port 853),
https://IP[:PORT][/PATH] DNS over HTTPS (RFC 8484, port 443, path
/dns-query) and quic://IP[:PORT] DNS over QUIC (RFC 9250, port 853); they
need --tls-cert and --tls-key (PEM files, reloaded on SIGHUP) or
--tls-self-signed DIR, which makes a CA and a certificate for 127.0.0.1, ::1
and localhost in DIR (reused when present) for clients to trust as
DIR/ca.pem. The bound addresses are printed to stderr ("rensa: resolver
listening on udp ..., tcp ...", "... on tls ..."). FILE is in the format
of IANA's named.root; the default is the built-in IANA root servers
("rensa testbed" writes one for its servers).

DNSSEC validation is on: answers proven from the trust anchors get AD
(when the client sent DO or AD), bogus ones SERVFAIL with an Extended DNS
Error naming the fault (expired signature, missing key, ...), and the CD
bit gets the data unchecked. The anchors are the IANA root KSKs unless
--trust-anchor names a file of DS or DNSKEY lines; with --root-hints and
no --trust-anchor validation is off. --no-validate turns it off.

--forward URL (repeatable) makes it a forwarder: every name is asked of
these upstream resolvers, the fastest first, the next on a failure, instead
of resolving from the root. URL is IP[:PORT] (plain DNS, port 53),
tls://HOST[:PORT][#NAME] (DoT, port 853), https://HOST[:PORT][/PATH] (DoH)
or quic://HOST[:PORT][#NAME] (DoQ, port 853); NAME is the name the
certificate must carry when HOST is an address, and "#pin=BASE64" (or
"#NAME,pin=BASE64") accepts the server by the SHA-256 pin of its public key
(RFC 7858 §4.2). Certificates chain to the system roots or to the CAs in
--forward-ca FILE. Validation stays rensa's own: upstreams are asked with
DO and CD, so they hand over the signatures and bogus data alike.

Examples:
  rensa resolver --listen 127.0.0.1:5300
  rensa resolver --listen 127.0.0.1:5300 --root-hints testbed.hints
  rensa resolver --listen 0.0.0.0:53 --allow 10.1.0.0/16 --allow 127.0.0.0/8
  rensa resolver --listen 0.0.0.0:53 --allow 192.0.2.0/24 --open-resolver
  rensa resolver --listen 127.0.0.1:5300 --root-hints testbed.hints --trust-anchor testbed.anchor
  rensa resolver --listen 127.0.0.1:5300 --trust-anchor /usr/share/dns/root.key
  rensa query @127.0.0.1:5300 www.example.test A
  rensa resolver --listen 127.0.0.1:5300 --forward tls://192.0.2.53#dns.example \
      --forward https://dns.example/dns-query
  rensa resolver --listen 127.0.0.1:5300 --forward tls://127.0.0.1:8853 --forward-ca tls/ca.pem \
      --trust-anchor testbed.anchor
  rensa resolver --listen 127.0.0.1:5300 --listen tls://127.0.0.1:8853 \
      --listen https://127.0.0.1:8443 --tls-self-signed /var/lib/rensa/tls
  rensa query @tls://127.0.0.1:8853 www.example.test --ca /var/lib/rensa/tls/ca.pem

Flags:
`

// resolverOptions is what "rensa resolver" (or the [resolver] section of
// "rensa serve") was told.
type resolverOptions struct {
	listen     []string
	tls        listenTLS // certificate of the encrypted listeners
	rootHints  string
	allow      []netip.Prefix
	cacheBytes int
	serveStale time.Duration

	// trustAnchor is a DS/DNSKEY file replacing the IANA root anchors;
	// noValidate turns DNSSEC validation off (validate_flags below).
	trustAnchor string
	noValidate  bool

	// forward lists upstream resolvers (resolver.ParseUpstream) to
	// forward to instead of iterating; forwardCA is their CA file.
	forward   []string
	forwardCA string

	// openResolver acknowledges answering clients beyond loopback and the
	// private ranges on an address other than loopback (checkOpenResolver).
	openResolver bool

	// dial replaces the upstream network; tests give the testbed's port
	// mapping. Nil means the real network.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (o *resolverOptions) addFlags(fs *flag.FlagSet) {
	fs.Func("listen", listenFlagUsage, func(s string) error {
		o.listen = append(o.listen, s)
		return nil
	})
	addListenTLSFlags(fs, &o.tls)
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
	fs.StringVar(&o.trustAnchor, "trust-anchor", "", "DNSSEC trust anchors from `FILE` (DS or DNSKEY lines, e.g. /usr/share/dns/root.key; default: the IANA root KSKs)")
	fs.BoolVar(&o.noValidate, "no-validate", false, "turn DNSSEC validation off")
	fs.Func("forward", "forward to the upstream resolver `URL` (IP[:PORT], tls://, https://, quic://; repeatable; default: resolve from the root)", func(s string) error {
		if _, err := resolver.ParseUpstream(s, resolver.UpstreamOptions{}); err != nil {
			return err
		}
		o.forward = append(o.forward, s)
		return nil
	})
	fs.BoolVar(&o.openResolver, "open-resolver", false, "allow --allow ranges beyond loopback and the private ones on a non-loopback --listen: an open resolver")
	fs.StringVar(&o.forwardCA, "forward-ca", "", "trust the CA certificates in PEM `FILE` for tls://, https:// and quic:// upstreams (default: the system roots)")
}

// upstreams makes the resolver's Config.Forward from --forward and
// --forward-ca; close releases their connections.
func (o *resolverOptions) upstreams() (ups []resolver.Upstream, closeAll func(), err error) {
	closeAll = func() {
		for _, u := range ups {
			if c, ok := u.Exchanger.(io.Closer); ok {
				c.Close()
			}
		}
	}
	for _, s := range o.forward {
		u, err := resolver.ParseUpstream(s, resolver.UpstreamOptions{CAFile: o.forwardCA, Dial: o.dial})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		ups = append(ups, u)
	}
	return ups, closeAll, nil
}

// validator returns the DNSSEC validator opts ask for: on by default with
// the IANA root anchors, or the --trust-anchor file; off with
// --no-validate, or when private --root-hints come without an anchor
// (the IANA keys cannot prove a private root; a hint says so).
func (o *resolverOptions) validator(stderr io.Writer) (resolver.Validator, error) {
	switch {
	case o.noValidate:
		return nil, nil
	case o.trustAnchor == "" && o.rootHints != "":
		fmt.Fprintln(stderr, "rensa: hint: --root-hints without --trust-anchor: DNSSEC validation is off")
		return nil, nil
	}
	var anchors *validate.Anchors
	if o.trustAnchor != "" {
		var err error
		if anchors, err = validate.ReadAnchors(o.trustAnchor); err != nil {
			return nil, err
		}
	}
	return validate.New(validate.Config{Anchors: anchors})
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
	switch {
	case len(opts.forward) > 0 && opts.rootHints != "":
		return errUsage("--forward and --root-hints exclude each other: a forwarder does not resolve from the root")
	case opts.forwardCA != "" && len(opts.forward) == 0:
		return errUsage("--forward-ca needs --forward")
	}
	specs, err := parseListenSpecs(opts.listen, opts.tls)
	if err != nil {
		return err
	}
	if err := checkOpenResolver(specs, opts); err != nil {
		return err
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
	if cfg.Validator, err = opts.validator(stderr); err != nil {
		return nil, err
	}
	var closeUpstreams func()
	if cfg.Forward, closeUpstreams, err = opts.upstreams(); err != nil {
		return nil, err
	}
	res, err := resolver.New(cfg)
	if err != nil {
		closeUpstreams()
		return nil, err
	}
	srv, err := server.New(server.Config{Handler: res, RawHandler: res.RawHandler, Logger: logger})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background()) // ends certificate reloading
	lines, err := startListeners(ctx, srv, opts.listen, opts.tls, logger)
	for _, line := range lines {
		fmt.Fprintf(stderr, "rensa: resolver listening on %s\n", line)
	}
	if err != nil {
		cancel()
		shutdownServer(srv, logger)
		closeUpstreams()
		return nil, err
	}
	return func() { cancel(); shutdownServer(srv, logger); closeUpstreams() }, nil
}

// startConfiguredResolver starts the resolver of a configuration file's
// [resolver] section for "rensa serve", if it lists addresses; stop is a
// no-op otherwise.
func startConfiguredResolver(cfg *config.Config, stderr io.Writer) (stop func(), err error) {
	rc := cfg.Resolver
	if len(rc.Listen) == 0 {
		return func() {}, nil
	}
	opts := resolverOptions{rootHints: rc.RootHintsPath(cfg.File), cacheBytes: rc.CacheBytes, serveStale: rc.ServeStale,
		trustAnchor: rc.TrustAnchorPath(cfg.File), noValidate: rc.Validate != nil && !*rc.Validate,
		forwardCA: rc.ForwardCAPath(cfg.File)}
	for _, u := range rc.Forward {
		opts.forward = append(opts.forward, u.URL)
	}
	for _, a := range rc.Listen {
		opts.listen = append(opts.listen, a.String())
	}
	for _, p := range rc.Allow {
		opts.allow = append(opts.allow, p.Prefix)
	}
	return startResolver(opts, stderr, slog.New(slog.NewTextHandler(stderr, nil)))
}

// checkOpenResolver refuses an open resolver that was not asked for
// (config.CheckOpenResolver), before anything binds.
func checkOpenResolver(specs []listenSpec, opts resolverOptions) error {
	if opts.openResolver {
		return nil
	}
	var listen []netip.Addr
	for _, s := range specs {
		if ap, err := netip.ParseAddrPort(s.addr); err == nil {
			listen = append(listen, ap.Addr())
		}
	}
	if err := config.CheckOpenResolver(listen, opts.allow); err != nil {
		return errUsage("%v; if that is what you want, add --open-resolver (and keep rate limiting in front of it)", err)
	}
	return nil
}
