package main

import (
	"context"
	"flag"
	"io"
	"os"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/config"
)

var _ = register(command{
	name:    "serve",
	summary: "run the servers described by a configuration file",
	usage:   serveUsage,
	run:     serveMain,
})

const serveUsage = `usage: rensa serve --config FILE

Run what the TOML configuration file describes, until interrupted: the
authoritative server (its [[listen]] addresses, its [auth] settings and its
[[auth.zone]] zones, paths relative to the file) and, when its [resolver]
section lists addresses, the recursive resolver (listen, root-hints, allow,
open-resolver, cache-bytes, serve-stale; see "rensa resolver -h"). A
resolver on an address other than loopback whose allow list reaches beyond
loopback and the private ranges is refused unless open-resolver = true.

SIGHUP reads the file again and reloads every zone: zones added or removed
in the file are added or removed; a zone that fails to load keeps serving
its old version. Changes to [[listen]] and [auth] settings need a restart.

Example configuration:

  [[listen]]
  address = "127.0.0.1:5353"

  [auth]
  nsid = "ns1"

  [[auth.zone]]
  origin = "example.test."
  file = "example.test.zone"

  [[auth.zone]]               # signed online, re-signed before expiry
  origin = "signed.test."
  file = "signed.test.zone"
  key-dir = "keys"            # K<origin>+*.key/.private from rensa keygen
  nsec3 = true                # NSEC3, 0 iterations, no salt (default NSEC)

  [resolver]
  listen = ["127.0.0.1:5300"]
  allow = ["127.0.0.0/8", "192.168.0.0/16"]

Examples:
  rensa serve --config /etc/rensa/rensa.toml

Flags:
`

// serveOptions is what "rensa serve" was told.
type serveOptions struct {
	config string

	// hup triggers a reload. Nil means SIGHUP; tests send on a channel.
	hup <-chan os.Signal
}

func (o *serveOptions) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.config, "config", "", "the configuration `FILE` (TOML)")
}

func serveMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts serveOptions
	fs := newFlagSet("serve", serveUsage, stderr)
	opts.addFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errUsage("unexpected argument %q", rest[0])
	}
	if opts.config == "" {
		return errUsage("--config FILE is required")
	}
	return runServe(ctx, opts, stdout, stderr)
}

// runServe loads the configuration and serves it until ctx ends.
func runServe(ctx context.Context, opts serveOptions, stdout, stderr io.Writer) error {
	cfg, err := config.Load(opts.config)
	if err != nil {
		return err
	}
	stopResolver, err := startConfiguredResolver(cfg, stderr)
	if err != nil {
		return err
	}
	defer stopResolver()
	svc := authService{
		listen: cfg.ListenAddresses(),
		auth: auth.Config{
			NSID:       cfg.Auth.NSID,
			Version:    cfg.Auth.Version,
			ID:         cfg.Auth.ID,
			MaxUDPSize: cfg.Auth.MaxUDPSize,
		},
		stack:   stackConfig(cfg.Auth.NoRRL, cfg.Auth.RRLLogOnly, cfg.Auth.RequireCookies),
		tls:     cfg.ListenTLS(),
		sources: configZones(opts.config),
		hup:     opts.hup,
	}
	return svc.run(ctx, stderr)
}

// configZones returns a function that reads the configuration file at
// path and lists its zones: "rensa serve" calls it on each reload, so
// zones added to the file are picked up.
func configZones(path string) func() ([]zoneSource, error) {
	return func() ([]zoneSource, error) {
		cfg, err := config.Load(path)
		if err != nil {
			return nil, err
		}
		out := make([]zoneSource, len(cfg.Auth.Zones))
		for i, z := range cfg.Auth.Zones {
			out[i] = zoneSource{origin: z.Origin, file: z.File, keyDir: z.KeyDir, nsec3: z.NSEC3}
		}
		return out, nil
	}
}
