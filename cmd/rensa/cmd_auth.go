package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/config"
	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/ratelimit"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/zone"
)

var _ = register(command{
	name:    "auth",
	summary: "serve zones as an authoritative name server",
	usage:   authUsage,
	run:     authMain,
})

const authUsage = `usage: rensa auth [--listen ADDR]... --zone [ORIGIN=]FILE [--key-dir DIR [--nsec3]]... [flags]

Serve zones from master files over UDP and TCP until interrupted (SIGINT or
SIGTERM, which let the queries in flight finish).

Every zone is loaded and checked first: a zone with errors stops the start
with its file:line. SIGHUP reloads all zones at once; a zone that fails to
reload keeps serving its old version, and the error is logged.

With --key-dir DIR after a --zone, that zone is signed online with the keys
in DIR (K<origin>+*.key and .private, as rensa keygen writes them): at load,
at every reload, and again before its signatures come close to expiry.
Denial of existence is an NSEC chain, or NSEC3 with --nsec3 after that
--zone (RFC 9276: no extra iterations, no salt). Missing, mismatched or
unusable keys stop the start, naming the file.

A zone without --key-dir is served as its file has it: signed or not. A
signed zone whose NSEC3PARAM asks for more than 50 extra iterations is
refused (RFC 9276; the server would hash at that cost for every denial,
and resolvers treat such zones as insecure): re-sign it with 0.

ORIGIN defaults to the owner of the file's SOA record. ADDR is IP:PORT
(default 127.0.0.1:53); port 0 picks a free port. The bound addresses are
printed to stderr ("rensa: listening on udp ..., tcp ...").

Examples:
  rensa auth --listen 127.0.0.1:5353 --zone example.test.zone
  rensa auth --listen 127.0.0.1:5353 --listen [::1]:5353 \
      --zone example.test.=db.example --zone db.other --nsid ns1
  rensa keygen --zone example.test. --csk --dir keys
  rensa auth --zone example.test.=db.example --key-dir keys
  rensa auth --zone example.test.=db.example --key-dir keys --nsec3
  kill -HUP <pid>    # reload the zones

Flags:
`

// shutdownGrace bounds how long a stopping server waits for the queries
// in flight.
const shutdownGrace = 5 * time.Second

// maxRefreshWait bounds the wait between two checks for zones to
// re-sign, so that a wall clock that jumps is noticed within the hour.
const maxRefreshWait = time.Hour

// authOptions is what "rensa auth" was told.
type authOptions struct {
	listen []string
	zones  []zoneSource
	nsid   string

	// tls holds the certificate for tls://, https:// and quic:// listeners.
	tls listenTLS

	// The defences: RRL and cookies are on unless switched off here.
	noRRL          bool
	rrlLogOnly     bool
	requireCookies bool
	version        string
	id             string

	// hup triggers a reload. Nil means SIGHUP; tests send on a channel.
	hup <-chan os.Signal
}

// zoneSource is a zone to load: its origin ("" for the SOA owner), file,
// the directory of the keys to sign it with ("" to serve it as is), and
// whether to sign it with NSEC3 rather than NSEC.
type zoneSource struct {
	origin string
	file   string
	keyDir string
	nsec3  bool
}

func (o *authOptions) addFlags(fs *flag.FlagSet) {
	fs.Func("listen", listenFlagUsage, func(s string) error {
		o.listen = append(o.listen, s)
		return nil
	})
	addListenTLSFlags(fs, &o.tls)
	fs.Func("zone", "serve the zone in `[ORIGIN=]FILE` (repeatable)", func(s string) error {
		src, err := parseZoneArg(s)
		if err == nil {
			o.zones = append(o.zones, src)
		}
		return err
	})
	fs.Func("key-dir", "sign the zone of the preceding --zone online with the keys in `DIR`", func(s string) error {
		if len(o.zones) == 0 {
			return errors.New("--key-dir must follow the --zone it is for")
		}
		if s == "" {
			return errors.New("empty key directory")
		}
		o.zones[len(o.zones)-1].keyDir = s
		return nil
	})
	fs.BoolFunc("nsec3", "sign the zone of the preceding --zone with NSEC3 (RFC 9276: 0 iterations, no salt), not NSEC; needs --key-dir", func(s string) error {
		if len(o.zones) == 0 {
			return errors.New("--nsec3 must follow the --zone it is for")
		}
		on, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("--nsec3=%s: want true or false", s)
		}
		o.zones[len(o.zones)-1].nsec3 = on
		return nil
	})
	fs.BoolVar(&o.noRRL, "no-rrl", false, "turn response rate limiting off (it is on by default: 5 responses/s per response class and client /24, slip 2)")
	fs.BoolVar(&o.rrlLogOnly, "rrl-log-only", false, "count what rate limiting would drop, without dropping")
	fs.BoolVar(&o.requireCookies, "require-cookies", false, "answer UDP queries without a valid DNS cookie with TC=1 or BADCOOKIE")
	fs.StringVar(&o.nsid, "nsid", "", "name server ID for EDNS NSID (RFC 5001): text, or hex after 0x")
	fs.StringVar(&o.version, "version-string", "", "answer to version.bind CH TXT (default: refused)")
	fs.StringVar(&o.id, "id", "", "answer to id.server and hostname.bind CH TXT (default: refused)")
}

// parseZoneArg splits "[ORIGIN=]FILE". The part before "=" is an origin
// only if it is a domain name, so a file name with "=" still works.
func parseZoneArg(s string) (zoneSource, error) {
	if origin, file, ok := strings.Cut(s, "="); ok {
		if _, isName := dns.IsDomainName(origin); isName && origin != "" && file != "" {
			return zoneSource{origin: dns.CanonicalName(origin), file: file}, nil
		}
	}
	if s == "" {
		return zoneSource{}, errors.New("empty zone file name")
	}
	return zoneSource{file: s}, nil
}

func authMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts authOptions
	fs := newFlagSet("auth", authUsage, stderr)
	opts.addFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errUsage("unexpected argument %q (zones are given with --zone)", rest[0])
	}
	if len(opts.zones) == 0 {
		return errUsage("no zones to serve: give --zone [ORIGIN=]FILE")
	}
	for _, z := range opts.zones {
		if z.nsec3 && z.keyDir == "" {
			return errUsage("--nsec3 for --zone %s needs --key-dir: a zone without keys is served as its file has it", z.file)
		}
	}
	return runAuth(ctx, opts, stdout, stderr)
}

// runAuth loads the zones, serves them until ctx ends and reloads them on
// each hup.
func runAuth(ctx context.Context, opts authOptions, stdout, stderr io.Writer) error {
	listen := opts.listen
	if len(listen) == 0 {
		listen = []string{config.DefaultListen}
	}
	svc := authService{
		listen:  listen,
		auth:    auth.Config{NSID: opts.nsid, Version: opts.version, ID: opts.id},
		stack:   stackConfig(opts.noRRL, opts.rrlLogOnly, opts.requireCookies),
		tls:     opts.tls,
		sources: func() ([]zoneSource, error) { return opts.zones, nil },
		hup:     opts.hup,
	}
	return svc.run(ctx, stderr)
}

// authService is an authoritative server run by "rensa auth" or
// "rensa serve": listeners, the engine and the zones it reloads.
type authService struct {
	listen []string
	auth   auth.Config // without Zones and Logger, which run fills in
	// stack configures the defences in front of the engine: DNS cookies,
	// response rate limiting and the precompiled-answer fast path. Its
	// zero value turns all three on at the LIMITS.md defaults.
	stack auth.StackConfig
	// tls is the certificate for encrypted listeners (DoT, DoH, DoQ).
	tls listenTLS
	// sources returns the zones to load; called at start and on every
	// reload, so "rensa serve" can re-read its configuration file.
	sources func() ([]zoneSource, error)
	hup     <-chan os.Signal
}

// run loads the zones, listens, and serves until ctx ends.
func (svc authService) run(ctx context.Context, stderr io.Writer) error {
	r := &authRunner{svc: svc, logger: slog.New(slog.NewTextHandler(stderr, nil)), originOf: map[string]string{}}
	sources, err := svc.sources()
	if err != nil {
		return err
	}
	cfg := svc.auth
	cfg.Logger = r.logger
	if r.engine, err = auth.New(cfg); err != nil {
		return err
	}
	if r.signer, err = auth.NewSigner(r.engine, auth.SignerConfig{Logger: r.logger}); err != nil {
		return err
	}
	zones, err := r.loadAll(sources)
	if err != nil {
		return err
	}
	r.engine.SetZones(zones)
	st, err := auth.NewStack(r.engine, svc.stack)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{Handler: st.Handler, RawHandler: st.RawHandler, Logger: r.logger})
	if err != nil {
		return err
	}
	defer shutdownServer(srv, r.logger)
	lines, err := startListeners(ctx, srv, svc.listen, svc.tls, r.logger)
	for _, l := range lines {
		fmt.Fprintf(stderr, "rensa: listening on %s\n", l)
	}
	if err != nil {
		return err
	}
	defer logRRLStats(st.Limiter, r.logger)
	if zones.Len() == 0 {
		r.logger.Warn("no zones configured: every query is refused")
	}
	r.logger.Info("serving", "zones", strings.Join(zones.Origins(), " "))
	hup := svc.hup
	if hup == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGHUP)
		defer signal.Stop(ch)
		hup = ch
	}
	refresh := time.NewTimer(r.refresh())
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			r.logger.Info("stopping")
			return nil
		case <-hup:
			r.reload()
		case <-refresh.C:
			refresh.Reset(r.refresh())
		}
	}
}

// refresh re-signs the zones signed online whose time has come, and
// returns how long to wait before the next check. Failures are logged by
// the signer; the zones keep their current signatures until a retry
// succeeds.
func (r *authRunner) refresh() time.Duration {
	next, _ := r.signer.Refresh()
	if next.IsZero() {
		return maxRefreshWait
	}
	return min(max(time.Until(next), time.Second), maxRefreshWait)
}

// authRunner is the state of a running authService. Only run's goroutine
// uses it.
type authRunner struct {
	svc    authService
	logger *slog.Logger
	engine *auth.Server
	signer *auth.Signer // signs the zones that have a key directory
	// originOf remembers the origin each file was last loaded with, so a
	// zone given without an origin that fails to reload can keep its old
	// version.
	originOf map[string]string
}

// loadAll loads every source; any failure is an error listing all
// failures.
func (r *authRunner) loadAll(sources []zoneSource) (*zone.Set, error) {
	var zones []*zone.Zone
	var errs []error
	for _, src := range sources {
		z, err := r.load(src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		zones = append(zones, z)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	set := zone.NewSet(zones...)
	if set.Len() != len(zones) {
		return nil, errors.New("a zone is given twice")
	}
	return set, nil
}

// load loads one zone and remembers its origin. A zone with a key
// directory is signed with its keys; one without is served as it is,
// unless its NSEC3 chain needs more hashing than the server does.
func (r *authRunner) load(src zoneSource) (*zone.Zone, error) {
	z, err := loadZone(src, r.logger)
	if err != nil {
		return nil, err
	}
	r.originOf[src.file] = z.Origin
	if src.keyDir == "" {
		if err := auth.CheckNSEC3(z); err != nil {
			return nil, err
		}
		return z, nil
	}
	keys, err := auth.LoadKeys(src.keyDir, z.Origin)
	if err != nil {
		return nil, err
	}
	o := auth.OnlineZone{Zone: z, Keys: keys}
	if src.nsec3 {
		o.NSEC3 = &dnssec.NSEC3Params{} // RFC 9276: 0 iterations, no salt
	}
	return r.signer.Sign(o)
}

// reload loads every zone again and swaps in the new set at once. A zone
// that fails keeps its old version; a zone no longer configured is
// dropped.
func (r *authRunner) reload() {
	sources, err := r.svc.sources()
	if err != nil {
		r.logger.Error("reload failed, keeping every zone", "err", err)
		return
	}
	old := r.engine.Zones()
	var zones []*zone.Zone
	failed := 0
	for _, src := range sources {
		z, err := r.load(src)
		if err == nil {
			zones = append(zones, z)
			continue
		}
		failed++
		origin := src.origin
		if origin == "" {
			origin = r.originOf[src.file]
		}
		if prev := old.Zone(origin); origin != "" && prev != nil {
			r.logger.Error("reload failed, keeping the old zone", "zone", prev.Origin, "err", err)
			zones = append(zones, prev)
		} else {
			r.logger.Error("reload failed, zone not served", "file", src.file, "err", err)
		}
	}
	set := zone.NewSet(zones...)
	r.engine.SetZones(set)
	r.logger.Info("reloaded", "zones", strings.Join(set.Origins(), " "), "failed", failed)
}

// loadZone loads and checks one zone. Check errors fail the load, as a
// zone that serves wrong answers is worse than none; warnings are logged.
func loadZone(src zoneSource, logger *slog.Logger) (*zone.Zone, error) {
	z, err := zone.Load(src.file, src.origin, zone.LoadOptions{})
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, f := range z.Check() {
		if f.Severity == zone.Error {
			errs = append(errs, errors.New(f.String()))
		} else {
			logger.Warn("zone check", "zone", z.Origin, "finding", f.String())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return z, nil
}

// shutdownServer stops srv, letting queries in flight finish for a while.
func shutdownServer(srv *server.Server, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("shutdown", "err", err)
	}
}

// logRRLStats logs what response rate limiting did while the server ran.
func logRRLStats(l *ratelimit.Limiter, logger *slog.Logger) {
	st := l.Stats()
	logger.Info("response rate limiting", "answered", st.Answered, "dropped", st.Dropped, "slipped", st.Slipped, "exempt", st.Exempt)
}

// stackConfig turns the defence switches into the stack's configuration.
func stackConfig(noRRL, rrlLogOnly, requireCookies bool) auth.StackConfig {
	var c auth.StackConfig
	c.RRL.Disabled = noRRL
	c.RRL.LogOnly = rrlLogOnly
	c.Cookies.Require = requireCookies
	return c
}
