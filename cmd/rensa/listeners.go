package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/rensa-dns/rensa/internal/config"
	"github.com/rensa-dns/rensa/internal/server"
)

// This file is the --listen handling shared by "rensa auth", "rensa resolver" and
// "rensa serve": one function parses the listener forms and starts them on a server.Server.
//
//	--listen 127.0.0.1:53                    UDP and TCP
//	--listen tls://127.0.0.1[:853]           DNS over TLS (RFC 7858)
//	--listen https://127.0.0.1[:443][/PATH]  DNS over HTTPS (RFC 8484; PATH /dns-query)
//	--listen quic://127.0.0.1[:853]          DNS over QUIC (RFC 9250)
//
// Encrypted listeners need --tls-cert FILE --tls-key FILE (reloaded on SIGHUP) or
// --tls-self-signed DIR (a CA and a certificate for 127.0.0.1, ::1 and localhost made
// there, or reused; clients trust DIR/ca.pem).

// listenFlagUsage is the help text of --listen.
const listenFlagUsage = "serve on `ADDR`: IP:PORT (UDP and TCP), tls://IP[:PORT], https://IP[:PORT][/PATH] or quic://IP[:PORT] (repeatable; default " + config.DefaultListen + ")"

// listenTLS is where the certificate of the encrypted listeners comes from.
type listenTLS = config.TLSFiles

// addListenTLSFlags registers --tls-cert, --tls-key and --tls-self-signed on fs.
func addListenTLSFlags(fs *flag.FlagSet, o *listenTLS) {
	fs.StringVar(&o.Cert, "tls-cert", o.Cert, "PEM certificate chain `FILE` for tls://, https:// and quic:// listeners (reloaded on SIGHUP)")
	fs.StringVar(&o.Key, "tls-key", o.Key, "PEM private key `FILE` for --tls-cert")
	fs.StringVar(&o.SelfSigned, "tls-self-signed", o.SelfSigned, "make (or reuse) a self-signed CA and certificate in `DIR` for the encrypted listeners; clients trust DIR/ca.pem")
}

// listenSpec is one parsed --listen value.
type listenSpec struct {
	scheme string // "", "tls", "https" or "quic"
	addr   string // IP:port
	path   string // https only
}

// parseListenSpecs parses every --listen value and checks that the certificate flags fit
// them. An empty list means config.DefaultListen.
func parseListenSpecs(specs []string, certs listenTLS) ([]listenSpec, error) {
	if len(specs) == 0 {
		specs = []string{config.DefaultListen}
	}
	var out []listenSpec
	encrypted := ""
	for _, s := range specs {
		scheme, addr, path, err := config.SplitListen(s)
		if err != nil {
			return nil, errUsage("--listen: %v", err)
		}
		if scheme != "" && encrypted == "" {
			encrypted = s
		}
		out = append(out, listenSpec{scheme: scheme, addr: addr, path: path})
	}
	switch {
	case (certs.Cert == "") != (certs.Key == ""):
		return nil, errUsage("--tls-cert and --tls-key go together")
	case certs.Cert != "" && certs.SelfSigned != "":
		return nil, errUsage("give --tls-cert and --tls-key, or --tls-self-signed, not both")
	case encrypted != "" && certs.IsZero():
		return nil, errUsage("--listen %s needs a certificate: --tls-cert FILE --tls-key FILE, or --tls-self-signed DIR", encrypted)
	case encrypted == "" && !certs.IsZero():
		return nil, errUsage("--tls-cert, --tls-key and --tls-self-signed need a tls://, https:// or quic:// --listen")
	}
	return out, nil
}

// startListeners starts srv on every listener specs names (the --listen forms above; none
// means config.DefaultListen) and returns one line per listener with the bound addresses,
// for "rensa: listening on LINE". It loads the certificate once for all encrypted
// listeners; until ctx ends, a goroutine reloads it on each SIGHUP (a failed reload is
// logged and the old certificate kept). On error, listeners already started stay with srv,
// whose Shutdown stops them.
func startListeners(ctx context.Context, srv *server.Server, specs []string, certs listenTLS, logger *slog.Logger) ([]string, error) {
	parsed, err := parseListenSpecs(specs, certs)
	if err != nil {
		return nil, err
	}
	var tc *tls.Config
	if !certs.IsZero() {
		src, err := loadCertSource(certs, logger)
		if err != nil {
			return nil, err
		}
		tc = src.TLSConfig()
		go reloadOnHUP(ctx, src, logger) // owned by ctx
	}
	var lines []string
	for _, l := range parsed {
		line, err := startListener(srv, l, tc)
		if err != nil {
			return lines, fmt.Errorf("listen on %s: %w", l.addr, err)
		}
		lines = append(lines, line)
	}
	return lines, nil
}

// startListener starts one listener and describes it.
func startListener(srv *server.Server, l listenSpec, tc *tls.Config) (string, error) {
	switch l.scheme {
	case "tls":
		a, err := srv.ListenTLS(l.addr, tc)
		return fmt.Sprintf("tls %s", a), err
	case "https":
		a, err := srv.ListenHTTPS(l.addr, l.path, tc)
		return fmt.Sprintf("https https://%s%s", a, l.path), err
	case "quic":
		a, err := srv.ListenQUIC(l.addr, tc)
		return fmt.Sprintf("quic %s", a), err
	}
	udp, tcp, err := srv.Listen(l.addr)
	return fmt.Sprintf("udp %s, tcp %s", udp, tcp), err
}

// loadCertSource loads the certificate files, making self-signed ones first if asked.
func loadCertSource(certs listenTLS, logger *slog.Logger) (*server.CertSource, error) {
	cert, key := certs.Cert, certs.Key
	if certs.SelfSigned != "" {
		var caFile string
		var err error
		if cert, key, caFile, err = server.SelfSigned(certs.SelfSigned); err != nil {
			return nil, err
		}
		logger.Info("self-signed certificate for 127.0.0.1, ::1 and localhost", "ca", caFile)
	}
	return server.LoadCertSource(cert, key)
}

// reloadOnHUP reloads src on every SIGHUP until ctx ends.
func reloadOnHUP(ctx context.Context, src *server.CertSource, logger *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := src.Reload(); err != nil {
				logger.Error("certificate reload failed; keeping the old one", "err", err)
				continue
			}
			logger.Info("certificate reloaded")
		}
	}
}
