package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSplitListen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in                     string
		scheme, hostPort, path string
		wantErr                string
	}{
		{in: "127.0.0.1:53", hostPort: "127.0.0.1:53"},
		{in: "tls://127.0.0.1", scheme: "tls", hostPort: "127.0.0.1:853"},
		{in: "tls://[::1]:8853", scheme: "tls", hostPort: "[::1]:8853"},
		{in: "quic://::1", scheme: "quic", hostPort: "[::1]:853"},
		{in: "https://127.0.0.1:8443", scheme: "https", hostPort: "127.0.0.1:8443", path: "/dns-query"},
		{in: "https://127.0.0.1/q", scheme: "https", hostPort: "127.0.0.1:443", path: "/q"},
		{in: "127.0.0.1", wantErr: "not an IP address and port"},
		{in: "udp://127.0.0.1:53", wantErr: `scheme "udp"`},
		{in: "tls://localhost:853", wantErr: "not an IP address"},
	} {
		scheme, hostPort, path, err := SplitListen(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || scheme != tc.scheme || hostPort != tc.hostPort || path != tc.path {
			t.Errorf("%s: got %q %q %q %v", tc.in, scheme, hostPort, path, err)
		}
	}
}

func TestListenTLS(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`
[[listen]]
address = "127.0.0.1:5353"

[[listen]]
address = "tls://127.0.0.1:8853"
tls-cert = "server.pem"
tls-key = "/etc/rensa/server.key"

[[listen]]
address = "https://127.0.0.1:8443/dns-query"
`), "/srv/rensa/rensa.toml")
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.ListenTLS()
	want := TLSFiles{Cert: filepath.FromSlash("/srv/rensa/server.pem"), Key: "/etc/rensa/server.key"}
	if got != want {
		t.Errorf("ListenTLS = %+v, want %+v", got, want)
	}

	for _, tc := range []struct{ name, text, wantErr string }{
		{"no certificate", "[[listen]]\naddress = \"quic://127.0.0.1\"\n", "needs a certificate"},
		{"cert without key", "[[listen]]\naddress = \"tls://127.0.0.1\"\ntls-cert = \"a.pem\"\n", "go together"},
		{"both", "[[listen]]\naddress = \"tls://127.0.0.1\"\ntls-cert = \"a\"\ntls-key = \"b\"\ntls-self-signed = \"d\"\n", "not both"},
		{"two certificates", "[[listen]]\naddress = \"tls://127.0.0.1\"\ntls-self-signed = \"d\"\n[[listen]]\naddress = \"quic://127.0.0.1\"\ntls-self-signed = \"e\"\n", "share one certificate"},
		{"bad scheme", "[[listen]]\naddress = \"ftp://127.0.0.1\"\n", "want tls://"},
		{"unknown key", "[[listen]]\naddress = \"tls://127.0.0.1\"\ntls-certificate = \"a\"\n", "tls-certificate"},
	} {
		if _, err := Parse([]byte(tc.text), "rensa.toml"); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}
