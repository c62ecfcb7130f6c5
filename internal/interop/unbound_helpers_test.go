package interop

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// Bounds of every Unbound a test runs.
const (
	unboundRunTime   = 60 * time.Second // the whole Unbound process
	unboundReadyWait = 15 * time.Second // from start to its first answer
)

// unboundConfig is the configuration of an Unbound run by a test. Every
// one runs in the foreground with one thread, logs to stderr, listens on
// 127.0.0.1 only, may ask servers on loopback, resolves test. (which
// Unbound otherwise blocks as an RFC 6761 name) and has no remote
// control; the fields say the rest. Build one with unboundOver or
// unboundWithHints, or as a literal, and run it with startUnbound.
type unboundConfig struct {
	dir  string // the working directory, where the configuration is written
	port int    // plain DNS, UDP and TCP

	// tlsPort and httpsPort are the DoT and DoH listeners, with tlsKey
	// and tlsCert; 0 for none.
	tlsPort, httpsPort int
	tlsKey, tlsCert    string

	// rootHints is the root hints file; "" for Unbound's built-in hints.
	rootHints string
	// trustAnchor is the trust anchor file; validation is on when set.
	trustAnchor string
	// tlsCertBundle is the CA file for DoT upstreams; "" for none.
	tlsCertBundle string
	// allow is the netblock that may query Unbound; "" for 127.0.0.0/8.
	allow string
	// server holds further lines of the server: clause, such as local
	// data.
	server []string
	// clauses follows the server: clause: forward-zone:, stub-zone: and
	// the like, each line after the first indented with a tab.
	clauses string
}

// text returns c in Unbound's configuration syntax.
func (c unboundConfig) text() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, "\t"+format+"\n", args...) }
	b.WriteString("server:\n")
	line("verbosity: 1")
	for _, port := range []int{c.port, c.tlsPort, c.httpsPort} {
		if port != 0 {
			line("interface: 127.0.0.1@%d", port)
		}
	}
	line("port: %d", c.port)
	if c.tlsPort != 0 {
		line("tls-port: %d", c.tlsPort)
	}
	if c.httpsPort != 0 {
		line("https-port: %d", c.httpsPort)
		line(`http-endpoint: "/dns-query"`)
	}
	if c.tlsPort != 0 || c.httpsPort != 0 {
		line("tls-service-key: %q", c.tlsKey)
		line("tls-service-pem: %q", c.tlsCert)
	}
	for _, l := range []string{"do-ip6: no", "num-threads: 1", "so-reuseport: no", `username: ""`, `chroot: ""`, `pidfile: ""`} {
		line("%s", l)
	}
	line("directory: %q", c.dir)
	line("use-syslog: no")
	line(`logfile: ""`)
	if c.rootHints != "" {
		line("root-hints: %q", c.rootHints)
	}
	if c.trustAnchor != "" {
		line("trust-anchor-file: %q", c.trustAnchor)
		line(`module-config: "validator iterator"`)
		line("val-log-level: 2")
	} else {
		line(`module-config: "iterator"`)
	}
	if c.tlsCertBundle != "" {
		line("tls-cert-bundle: %q", c.tlsCertBundle)
	}
	line("do-not-query-localhost: no")
	line(`local-zone: "test." nodefault`)
	line("qname-minimisation: yes")
	allow := c.allow
	if allow == "" {
		allow = "127.0.0.0/8"
	}
	line("access-control: %s allow", allow)
	line("hide-identity: no")
	line(`identity: "rensa-interop"`)
	for _, l := range c.server {
		line("%s", l)
	}
	b.WriteString(c.clauses)
	b.WriteString("remote-control:\n\tcontrol-enable: no\n")
	return b.String()
}

// addr returns the address of c's plain DNS listener.
func (c unboundConfig) addr() string {
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(c.port))
}

// unboundOver returns the configuration of an Unbound resolving over tb,
// in a fresh directory with tb's root hints and, with validate, its trust
// anchor.
func unboundOver(t *testing.T, tb *testbed.Testbed, validate bool) unboundConfig {
	t.Helper()
	c := unboundConfig{dir: t.TempDir()}
	c.rootHints = filepath.Join(c.dir, "root.hints")
	if err := tb.WriteRootHints(c.rootHints); err != nil {
		t.Fatal(err)
	}
	if validate {
		c.trustAnchor = filepath.Join(c.dir, "root.key")
		if err := tb.WriteTrustAnchor(c.trustAnchor); err != nil {
			t.Fatal(err)
		}
	}
	c.port = freePort(t, "127.0.0.1")
	return c
}

// unboundWithHints returns the configuration of an Unbound resolving
// over a hierarchy that is not a rensa testbed, in a fresh directory with
// the root hints given as text.
func unboundWithHints(t *testing.T, hints string) unboundConfig {
	t.Helper()
	c := unboundConfig{dir: t.TempDir()}
	c.rootHints = filepath.Join(c.dir, "root.hints")
	writeFile(t, c.rootHints, hints)
	c.port = freePort(t, "127.0.0.1")
	return c
}

// startUnbound runs Unbound with c until the test ends, waits until it
// answers and returns the address of its plain DNS listener.
func startUnbound(t *testing.T, unbound string, c unboundConfig) string {
	t.Helper()
	return startUnboundConf(t, unbound, c.dir, c.text(), c.addr())
}

// startUnboundConf runs Unbound with the configuration text, written to
// dir, until the test ends and waits until it answers plain DNS on ready;
// it returns ready.
func startUnboundConf(t *testing.T, unbound, dir, text, ready string) string {
	t.Helper()
	conf := filepath.Join(dir, "unbound.conf")
	writeFile(t, conf, text)
	// Unbound answers id.server CH TXT itself, without recursion.
	m := new(dns.Msg)
	m.SetQuestion("id.server.", dns.TypeTXT)
	m.Question[0].Qclass = dns.ClassCHAOS
	cl := dns.Client{Timeout: 200 * time.Millisecond}
	daemon{name: "unbound", path: unbound, args: []string{"-d", "-c", conf}, config: text,
		runTime: unboundRunTime, readyWait: unboundReadyWait,
		ready: func() bool {
			_, _, err := cl.Exchange(m, ready)
			return err == nil
		}}.start(t)
	return ready
}
