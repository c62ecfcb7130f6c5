package config

import (
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
		"[resolver]\nforward = [\"ftp://127.0.0.1\"]\n": "c.toml:2",
		"[resolver]\nforward = [\"tls://\"]\n":          "has no host",
		"[resolver]\nforward = \"127.0.0.1\"\n":         "c.toml:2",
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
