package interop

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
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
	startAuthPeer(t, "nsd "+ip, exec.Command(nsd, "-d", "-c", path), ip, zones[0].origin)
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
	startAuthPeer(t, "knotd "+ip, exec.Command(knotd, "-c", path), ip, zones[0].origin)
}

// startAuthPeer starts cmd, stops it when the test ends (printing its log
// if the test failed), and waits until ip:53 answers origin SOA
// authoritatively.
func startAuthPeer(t *testing.T, name string, cmd *exec.Cmd, ip, origin string) {
	t.Helper()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	exited := make(chan struct{})
	timer := time.AfterFunc(authRunTime, func() { cmd.Process.Kill() })
	go func() { // owned by this helper: ends when the peer does
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		timer.Stop()
		cmd.Process.Signal(os.Interrupt)
		<-exited
		if t.Failed() {
			t.Logf("%s log:\n%s", name, &logs)
		}
	})
	addr := net.JoinHostPort(ip, "53")
	m := new(dns.Msg)
	m.SetQuestion(origin, dns.TypeSOA)
	cl := dns.Client{Timeout: 200 * time.Millisecond}
	deadline := time.Now().Add(authReadyWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if r, _, err := cl.Exchange(m, addr); err == nil && r.Authoritative {
			return
		}
		select {
		case <-exited:
			t.Fatalf("%s exited at start:\n%s", name, &logs)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no authoritative answer for %s SOA within %v:\n%s", name, origin, authReadyWait, &logs)
		}
	}
}

// startUnboundWithHints is startUnbound for a hierarchy that is not a
// rensa testbed: the root hints are given as text.
func startUnboundWithHints(t *testing.T, unbound, hints string) string {
	t.Helper()
	dir := t.TempDir()
	hintsPath := filepath.Join(dir, "root.hints")
	writeFile(t, hintsPath, hints)
	const ip = "127.0.0.1"
	port := freePort(t, ip)
	conf := filepath.Join(dir, "unbound.conf")
	text := fmt.Sprintf(unboundConf, ip, port, dir, hintsPath)
	writeFile(t, conf, text)
	ctx, cancel := context.WithTimeout(context.Background(), unboundRunTime)
	cmd := exec.CommandContext(ctx, unbound, "-d", "-c", conf)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { // owned by this helper: ends when Unbound does
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		<-exited
		cancel()
		if t.Failed() {
			t.Logf("unbound log:\n%s", &logs)
		}
	})
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
	if err := waitReady(addr, exited); err != nil {
		t.Fatalf("unbound did not start: %v\nconfig:\n%s", err, text)
	}
	return addr
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
