package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseResolver(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`
[resolver]
listen = ["127.0.0.1:5300", "[::1]:5300"]
root-hints = "root.hints"
allow = ["192.0.2.0/24", "2001:db8::1"]
cache-bytes = 1048576
serve-stale = "24h"
`), "/etc/rensa/rensa.toml")
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Resolver
	if len(r.Listen) != 2 || r.Listen[1].String() != "[::1]:5300" || r.CacheBytes != 1<<20 || r.ServeStale != 24*time.Hour {
		t.Errorf("resolver = %+v", r)
	}
	if len(r.Allow) != 2 || r.Allow[0].String() != "192.0.2.0/24" || r.Allow[1].String() != "2001:db8::1/128" {
		t.Errorf("allow = %v", r.Allow)
	}
	if got := r.RootHintsPath(cfg.File); got != "/etc/rensa/root.hints" {
		t.Errorf("RootHintsPath = %q", got)
	}
	for text, want := range map[string]string{
		"[resolver]\nlisten = [\"localhost:53\"]\n": "c.toml:2",
		"[resolver]\nallow = [\"10.0.0.0/33\"]\n":   "not an IP prefix",
		"[resolver]\nallow-all = true\n":            "unknown key resolver.allow-all",
	} {
		_, err := Parse([]byte(text), "c.toml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", text, err, want)
		}
	}
}

// TestParseResolverForward reads the forward list and its CA file.
func TestParseResolverForward(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`
[resolver]
forward = ["127.0.0.1:53", "tls://127.0.0.1:853#localhost", "https://dns.example/dns-query", "quic://[::1]"]
forward-ca = "ca.pem"
`), "/etc/rensa/rensa.toml")
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Resolver
	if len(r.Forward) != 4 || r.Forward[1].URL != "tls://127.0.0.1:853#localhost" || r.Forward[3].URL != "quic://[::1]" {
		t.Errorf("forward = %v", r.Forward)
	}
	if got := r.ForwardCAPath(cfg.File); got != "/etc/rensa/ca.pem" {
		t.Errorf("ForwardCAPath = %q", got)
	}
	for text, want := range map[string]string{
		"[resolver]\nforward = [\"ftp://127.0.0.1\"]\n":               "c.toml:2",
		"[resolver]\nforward = [\"tls://\"]\n":                        "has no host",
		"[resolver]\nforward = \"127.0.0.1\"\n":                       "c.toml:2",
		"[resolver]\nroot-hints = \"r\"\nforward = [\"127.0.0.1\"]\n": "c.toml:3: resolver.forward: forward and root-hints exclude each other",
		"[resolver]\nforward-ca = \"ca.pem\"\n":                       "c.toml:2: resolver.forward-ca: needs forward",
	} {
		_, err := Parse([]byte(text), "c.toml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", text, err, want)
		}
	}
}

// TestParseResolverValidation reads the DNSSEC keys of [resolver]: the
// trust anchor file is relative to the configuration file, and
// validation is on unless validate = false.
func TestParseResolverValidation(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte("[resolver]\ntrust-anchor = \"root.key\"\nvalidate = false\n"), "/etc/rensa/rensa.toml")
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Resolver
	if got := r.TrustAnchorPath(cfg.File); got != "/etc/rensa/root.key" {
		t.Errorf("TrustAnchorPath = %q", got)
	}
	if r.Validate == nil || *r.Validate {
		t.Errorf("validate = %v, want false", r.Validate)
	}
	cfg, err = Parse([]byte("[resolver]\n"), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Resolver.Validate != nil || cfg.Resolver.TrustAnchorPath(cfg.File) != "" {
		t.Errorf("defaults: %+v", cfg.Resolver)
	}
}

// TestOpenResolverRefused checks the guard of issue 7: a resolver on an
// address other than loopback that allows ranges beyond loopback and the
// private ones needs open-resolver = true. The check is part of parsing,
// so it fails before anything binds (192.0.2.1 is not an address of this
// machine, and is never bound).
func TestOpenResolverRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want string // "" for no error
	}{
		{"listen = [\"192.0.2.1:53\"]\nallow = [\"0.0.0.0/0\"]", "resolver.allow: listening on 192.0.2.1, which is not loopback, and allowing 0.0.0.0/0"},
		{"listen = [\"0.0.0.0:53\"]\nallow = [\"::/0\"]", "allowing ::/0, which is not loopback or a private range, makes an open resolver"},
		{"listen = [\"127.0.0.1:53\", \"[2001:db8::1]:53\"]\nallow = [\"10.0.0.0/8\", \"198.51.100.0/24\"]", "allowing 198.51.100.0/24"},
		{"listen = [\"192.0.2.1:53\"]\nallow = [\"172.0.0.0/8\"]", "allowing 172.0.0.0/8"},
		{"listen = [\"192.0.2.1:53\"]\nallow = [\"::ffff:0.0.0.0/96\"]", "allowing ::ffff:0.0.0.0/96"},
		{"listen = [\"192.0.2.1:53\"]\nallow = [\"0.0.0.0/0\"]\nopen-resolver = true", ""},
		{"listen = [\"192.0.2.1:53\"]", ""}, // the default allow list: loopback and private
		{"listen = [\"192.0.2.1:53\"]\nallow = [\"10.0.0.0/8\", \"192.168.1.0/24\", \"fd00::/8\", \"127.0.0.1\", \"::ffff:10.1.0.0/112\"]", ""},
		{"listen = [\"127.0.0.1:53\", \"[::1]:53\"]\nallow = [\"0.0.0.0/0\"]", ""}, // loopback only: nobody outside reaches it
	} {
		_, err := Parse([]byte("[resolver]\n"+tc.text+"\n"), "c.toml")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.text, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "set open-resolver = true")):
			t.Errorf("%q: err %v, want %q and the open-resolver hint", tc.text, err, tc.want)
		case tc.want != "" && !errors.Is(err, ErrOpenResolver):
			t.Errorf("%q: err %v does not wrap ErrOpenResolver", tc.text, err)
		}
	}
}
