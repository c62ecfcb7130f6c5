package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/cookie"
	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/ratelimit"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/zone"
)

// auditAmpZone is signed with ECDSA (fixed-size keys and signatures) and
// has a TXT RRset that amplifies, so the golden file has sizes that do not
// change between runs.
const auditAmpZone = `
$ORIGIN amp.test.
$TTL 3600
@  SOA ns1 hostmaster 1 7200 900 1209600 300
@  NS  ns1
ns1 A 127.0.0.1
@  TXT "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip4:203.0.113.0/24 include:_spf.example.net -all"
@  TXT "google-site-verification=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
@  TXT "apple-domain-verification=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
`

// startAuditAmpAuth serves auditAmpZone from rensa's authoritative stack
// (RRL and cookies on, as "rensa auth" runs it) with a frozen clock, so
// the burst meets the same limits every run, and returns its UDP port.
func startAuditAmpAuth(t *testing.T) int {
	t.Helper()
	k, err := dnssec.Generate("amp.test.", dns.ECDSAP256SHA256, dnssec.FlagsKSK, 256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	z, err := dnssec.Sign(dnstest.Zone(t, "amp.test.", auditAmpZone), dnssec.SignConfig{Keys: []*dnssec.Key{k}})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	engine, err := auth.New(auth.Config{Zones: zone.NewSet(z), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	now := func() time.Time { return frozen }
	st, err := auth.NewStack(engine, auth.StackConfig{RRL: ratelimit.Config{Now: now}, Cookies: cookie.Config{Now: now}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Handler: st.Handler, RawHandler: st.RawHandler, Logger: logger, UDPSockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	udp, _, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return udp.(*net.UDPAddr).Port
}

// TestAuditAmpAuthGolden audits rensa's authoritative server with RRL on:
// the TXT question amplifies more than 10 times, but the burst is rate
// limited and cookies are offered, so the verdict is ok (exit 0). The
// JSON report is pinned in testdata/audit_amp_auth.json (port replaced by
// PORT; -update rewrites it).
func TestAuditAmpAuthGolden(t *testing.T) {
	t.Parallel()
	port := startAuditAmpAuth(t)
	for _, asJSON := range []bool{true, false} {
		opts := auditAmpOptions{target: "127.0.0.1", port: port, name: "amp.test", json: asJSON,
			timeout: time.Second, rand: mrand.NewChaCha8([32]byte{7})}
		var stdout, stderr bytes.Buffer
		err := runAuditAmp(context.Background(), opts, &stdout, &stderr)
		if code := exitCode(err); code != 0 {
			t.Fatalf("exit %d (%v); stdout:\n%s", code, err, &stdout)
		}
		got := strings.ReplaceAll(stdout.String(), ":"+strconv.Itoa(port), ":PORT")
		if asJSON {
			checkGolden(t, "audit_amp_auth.json", got)
			continue
		}
		for _, want := range []string{"amp.test.                TXT    sent   37", "rrl: rate limited", "cookies: client cookie echoed", "verdict: ok: worst factor"} {
			if !strings.Contains(got, want) {
				t.Errorf("text output lacks %q:\n%s", want, got)
			}
		}
	}
}
