package interop

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Bounds of the authoritative peers (NSD, Knot DNS) a test runs.
const (
	authRunTime   = 90 * time.Second // one peer process
	authReadyWait = 15 * time.Second // from start to its first answer
)

// authZone is one zone a peer serves: its origin and master file text.
type authZone struct {
	origin, text string
}

// nsdConf configures one NSD process serving its zones on one address,
// port 53, with everything in dir and no privilege drop.
const nsdConf = `server:
	ip-address: %s
	port: 53
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: %q
	database: ""
	zonelistfile: %q
	xfrdfile: %q
	xfrdir: %q
	pidfile: %q
	verbosity: 1
	hide-version: yes
remote-control:
	control-enable: no
`

// knotConf configures one Knot DNS process serving its zones on one
// address, port 53, with everything in dir and no journal.
const knotConf = `server:
    rundir: %q
    listen: %s@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: %q
database:
    storage: %q
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: %q
    zonefile-sync: -1
    journal-content: none
zone:
`

// startNSD runs NSD for zones on ip:53 until the test ends.
func startNSD(t *testing.T, nsd, ip string, zones []authZone) {
	t.Helper()
	dir := t.TempDir()
	var conf strings.Builder
	fmt.Fprintf(&conf, nsdConf, ip, dir, filepath.Join(dir, "zone.list"), filepath.Join(dir, "xfrd.state"),
		dir, filepath.Join(dir, "nsd.pid"))
	for i, z := range zones {
		file := fmt.Sprintf("zone%d.zone", i)
		writeFile(t, filepath.Join(dir, file), z.text)
		fmt.Fprintf(&conf, "zone:\n\tname: %q\n\tzonefile: %q\n", z.origin, file)
	}
	path := filepath.Join(dir, "nsd.conf")
	writeFile(t, path, conf.String())
	startAuthPeer(t, "nsd "+ip, nsd, []string{"-d", "-c", path}, conf.String(), ip, zones[0].origin)
}

// startKnot runs Knot DNS for zones on ip:53 until the test ends.
func startKnot(t *testing.T, knotd, ip string, zones []authZone) {
	t.Helper()
	dir := t.TempDir()
	var conf strings.Builder
	fmt.Fprintf(&conf, knotConf, dir, ip, filepath.Join(dir, "knot.sock"), dir, dir)
	for i, z := range zones {
		file := fmt.Sprintf("zone%d.zone", i)
		writeFile(t, filepath.Join(dir, file), z.text)
		fmt.Fprintf(&conf, "  - domain: %q\n    file: %q\n", z.origin, filepath.Join(dir, file))
	}
	path := filepath.Join(dir, "knot.conf")
	writeFile(t, path, conf.String())
	startAuthPeer(t, "knotd "+ip, knotd, []string{"-c", path}, conf.String(), ip, zones[0].origin)
}

// startAuthPeer runs the authoritative server program path with args
// until the test ends, and waits until ip:53 answers origin SOA
// authoritatively.
func startAuthPeer(t *testing.T, name, path string, args []string, config, ip, origin string) {
	t.Helper()
	addr := net.JoinHostPort(ip, "53")
	m := new(dns.Msg)
	m.SetQuestion(origin, dns.TypeSOA)
	cl := dns.Client{Timeout: 200 * time.Millisecond}
	daemon{name: name, path: path, args: args, config: config, runTime: authRunTime, readyWait: authReadyWait,
		ready: func() bool {
			r, _, err := cl.Exchange(m, addr)
			return err == nil && r.Authoritative
		}}.start(t)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
