package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/testbed"
)

func TestParseListenSpecs(t *testing.T) {
	t.Parallel()
	self := listenTLS{SelfSigned: "dir"}
	for _, tc := range []struct {
		name    string
		specs   []string
		certs   listenTLS
		wantErr string
	}{
		{name: "default", specs: nil},
		{name: "all forms", specs: []string{"127.0.0.1:53", "tls://127.0.0.1", "https://[::1]:8443/q", "quic://127.0.0.1:8853"}, certs: self},
		{name: "files", specs: []string{"tls://127.0.0.1"}, certs: listenTLS{Cert: "c", Key: "k"}},
		{name: "no certificate", specs: []string{"tls://127.0.0.1"}, wantErr: "needs a certificate"},
		{name: "cert without key", specs: []string{"tls://127.0.0.1"}, certs: listenTLS{Cert: "c"}, wantErr: "go together"},
		{name: "both kinds", specs: []string{"tls://127.0.0.1"}, certs: listenTLS{Cert: "c", Key: "k", SelfSigned: "d"}, wantErr: "not both"},
		{name: "certificate unused", specs: []string{"127.0.0.1:53"}, certs: self, wantErr: "need a tls://"},
		{name: "bad scheme", specs: []string{"dns://127.0.0.1:53"}, wantErr: `scheme "dns"`},
		{name: "no port", specs: []string{"127.0.0.1"}, wantErr: "not an IP address and port"},
	} {
		_, err := parseListenSpecs(tc.specs, tc.certs)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

// TestStartListenersQuery starts every listener form on one server with a self-signed
// certificate and asks each with "rensa query" over its transport, trusting the CA with
// --ca, then with an SPKI pin.
func TestStartListenersQuery(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	srv, err := server.New(server.Config{Handler: exampleHandler{}, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdownServer(srv, logger) })
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	lines, err := startListeners(ctx, srv, []string{"127.0.0.1:0", "tls://127.0.0.1:0", "https://127.0.0.1:0/q", "quic://127.0.0.1:0"},
		listenTLS{SelfSigned: dir}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "udp 127.0.0.1:") {
		t.Fatalf("lines %q", lines)
	}
	ca := filepath.Join(dir, server.SelfSignedCAFile)
	servers := map[string]string{
		"TLS":   "@tls://" + strings.TrimPrefix(lines[1], "tls "),
		"HTTPS": "@" + strings.TrimPrefix(lines[2], "https "),
		"QUIC":  "@quic://" + strings.TrimPrefix(lines[3], "quic "),
	}
	for proto, at := range servers {
		code, stdout, stderr := runRensa(t, "query", at, "www.example.test", "--ca", ca)
		if code != 0 {
			t.Fatalf("%s: exit %d:\n%s", at, code, stderr)
		}
		if !strings.Contains(stdout, "192.0.2.1") || !strings.Contains(stdout, "("+proto+")") {
			t.Errorf("%s: output:\n%s", at, stdout)
		}
		code, _, stderr = runRensa(t, "query", at, "www.example.test")
		if code != 1 || !strings.Contains(stderr, "certificate") {
			t.Errorf("%s without --ca: exit %d, stderr:\n%s", at, code, stderr)
		}
	}
	code, stdout, stderr := runRensa(t, "query", servers["TLS"], "www.example.test", "--pin", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
	if code != 1 || !strings.Contains(stderr, "SPKI pin") {
		t.Errorf("wrong pin: exit %d, stdout %s, stderr:\n%s", code, stdout, stderr)
	}
}

// TestResolverEncryptedListeners runs "rensa resolver" over the testbed with DoT and DoH
// listeners and a self-signed certificate, and asks it with "rensa query".
func TestResolverEncryptedListeners(t *testing.T) {
	t.Parallel()
	tb, err := testbed.Start(context.Background(), testbed.Config{Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	hints := filepath.Join(t.TempDir(), "root.hints")
	if err := tb.WriteRootHints(hints); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		opts := resolverOptions{dial: tb.Dial}
		fs := newFlagSet("resolver", "", stderr)
		opts.addFlags(fs)
		if err := fs.Parse([]string{"--listen", "tls://127.0.0.1:0", "--listen", "https://127.0.0.1:0", "--tls-self-signed", dir, "--root-hints", hints}); err != nil {
			return err
		}
		return runResolver(ctx, opts, stdout, stderr)
	})
	m, _ := stderr.waitFor(t, 0, `rensa: resolver listening on tls (\S+)`)
	h, _ := stderr.waitFor(t, 0, `rensa: resolver listening on https (\S+)`)
	ca := filepath.Join(dir, server.SelfSignedCAFile)
	for _, at := range []string{"@tls://" + m[1], "@" + h[1]} {
		code, stdout, errOut := runRensa(t, "query", at, "www.example.test", "--ca", ca, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d:\n%s", at, code, errOut)
		}
		if !strings.Contains(stdout, `"rcode": "NOERROR"`) || !strings.Contains(stdout, `"type": "A"`) {
			t.Errorf("%s: %s", at, stdout)
		}
	}
}

// TestAuthEncryptedListeners serves a zone from "rensa auth" over DoT, DoH
// and DoQ with a self-signed certificate, and queries each with rensa query.
func TestAuthEncryptedListeners(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "example.test.zone")
	writeFile(t, file, zoneV1)
	certs := filepath.Join(dir, "certs")
	_, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		var opts authOptions
		fs := newFlagSet("auth", "", stderr)
		opts.addFlags(fs)
		args := []string{"--listen", "tls://127.0.0.1:0", "--listen", "https://127.0.0.1:0", "--listen", "quic://127.0.0.1:0",
			"--tls-self-signed", certs, "--zone", file}
		if err := fs.Parse(args); err != nil {
			return err
		}
		return runAuth(ctx, opts, stdout, stderr)
	})
	dot, _ := stderr.waitFor(t, 0, `rensa: listening on tls (\S+)`)
	doh, _ := stderr.waitFor(t, 0, `rensa: listening on https (\S+)`)
	doq, _ := stderr.waitFor(t, 0, `rensa: listening on quic (\S+)`)
	ca := filepath.Join(certs, server.SelfSignedCAFile)
	for _, at := range []string{"@tls://" + dot[1], "@" + doh[1], "@quic://" + doq[1]} {
		code, stdout, errOut := runRensa(t, "query", at, "www.example.test", "--ca", ca, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d:\n%s", at, code, errOut)
		}
		if !strings.Contains(stdout, `"rcode": "NOERROR"`) || !strings.Contains(stdout, "192.0.2.1") {
			t.Errorf("%s: %s", at, stdout)
		}
	}
}
