package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rensa-dns/rensa/internal/testbed"
	"github.com/rensa-dns/rensa/internal/testbed/testresolver"
)

// update rewrites the golden files under testdata/ instead of comparing:
// go test ./cmd/rensa -run Audit -update
var update = flag.Bool("update", false, "rewrite golden files")

// auditResolver runs a testbed of specs (nil: the default hierarchy) and
// rensa's resolver over it, and returns the resolver's address.
func auditResolver(t *testing.T, specs []testbed.ZoneSpec) string {
	return testresolver.Start(t, specs)
}

// auditBlackHole binds a UDP socket that never answers: a resolver that
// is down.
func auditBlackHole(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// runAuditCLI runs the whole program with args and returns the exit code
// and outputs.
func runAuditCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// checkGolden compares got with testdata/name, or rewrites it with
// -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// TestAuditCAA runs "rensa audit caa" against the default testbed's CAA
// records through rensa's resolver: exit 0 allowed, 1 not allowed, with
// JSON golden files.
func TestAuditCAA(t *testing.T) {
	t.Parallel()
	addr := auditResolver(t, nil)
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // a line the text output has
		golden string
	}{
		{[]string{"www.example.test", "--ca", "ca.example.net"}, 0, "relevant RRset: example.test.", "audit_caa_allowed.json"},
		{[]string{"www.example.test", "--ca", "letsencrypt.org"}, 1, "iodef: mailto:security@example.test", "audit_caa_other_ca.json"},
		{[]string{"shop.example.test", "--ca", "ca.example.net"}, 1, `shop.example.test. CAA 0 issue ";"`, ""},
		{[]string{"critical.example.test", "--ca", "ca.example.net"}, 1, "unknown critical property", "audit_caa_critical.json"},
		{[]string{"wildcert.example.test", "--wildcard", "--ca", "wild.example.net"}, 0, "allowed: wild.example.net may issue for *.wildcert.example.test", ""},
		{[]string{"wildcert.example.test", "--wildcard", "--ca", "ca.example.net"}, 1, "no issuewild property authorises", ""},
		{[]string{"www.sibling.test", "--ca", "letsencrypt.org"}, 0, "relevant RRset: none", ""},
		// ext is a CNAME to www.other.test., which has no CAA records (its
		// zone forbids all issuance at its apex): the climb goes on from
		// ext's own parent, example.test. (RFC 8659 section 3).
		{[]string{"ext.example.test", "--ca", "ca.example.net"}, 0, "relevant RRset: example.test.", ""},
	} {
		args := append([]string{"audit", "caa", "--resolver", addr}, tc.args...)
		code, stdout, stderr := runAuditCLI(args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) {
			t.Errorf("%v: exit %d, want %d; stdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, stdout, stderr)
		}
		if tc.golden != "" {
			code, stdout, _ := runAuditCLI(append(args, "--json")...)
			if code != tc.code {
				t.Errorf("%v --json: exit %d", tc.args, code)
			}
			checkGolden(t, tc.golden, stdout)
		}
	}
}

// TestAuditCAADNSFailure: a resolver that never answers is a DNS
// failure, exit 2, and never "allowed".
func TestAuditCAADNSFailure(t *testing.T) {
	t.Parallel()
	hole := auditBlackHole(t)
	code, stdout, stderr := runAuditCLI("audit", "caa", "www.example.test", "--ca", "ca.example.net", "--resolver", hole, "--timeout", "200ms", "--json")
	if code != 2 || !strings.Contains(stderr, "rensa: error: caa: lookup failed") || strings.Contains(stderr, "hint") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var res struct {
		Status   string `json:"status"`
		Decision struct {
			Allowed bool `json:"allowed"`
		} `json:"decision"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Status != "dns-failure" || res.Decision.Allowed {
		t.Errorf("JSON %s: %+v %v", stdout, res, err)
	}
	code, stdout, _ = runAuditCLI("audit", "caa", "www.example.test", "--ca", "ca.example.net", "--resolver", hole, "--timeout", "200ms")
	if code != 2 || !strings.HasPrefix(stdout, "dns failure:") || strings.Contains(stdout, "allowed") {
		t.Errorf("text: exit %d stdout %s", code, stdout)
	}
}

// takeoverWorld is a small hierarchy for the CLI: the guide's CDN
// (cdnprovider.test., whose pages say "no such app" for released sites)
// and the customer zone example.test.
func takeoverWorld(customer string) []testbed.ZoneSpec {
	lines := func(l ...string) string { return strings.Join(l, "\n") + "\n" }
	return []testbed.ZoneSpec{
		{Origin: ".", Server: "127.53.0.1", Text: lines(
			". 86400 SOA a.root-servers.test. h.root. 1 1800 900 604800 300",
			". 86400 NS a.root-servers.test.",
			"a.root-servers.test. 86400 A 127.53.0.1",
			"test. 86400 NS ns1.nic.test.",
			"ns1.nic.test. 86400 A 127.53.1.1")},
		{Origin: "test.", Server: "127.53.1.1", Text: lines(
			"test. 3600 SOA ns1.nic.test. h.test. 1 7200 900 1209600 300",
			"test. 3600 NS ns1.nic.test.",
			"ns1.nic.test. 3600 A 127.53.1.1",
			"a.root-servers.test. 3600 A 127.53.0.1",
			"example.test. 3600 NS ns1.example.test.",
			"ns1.example.test. 3600 A 127.53.2.1",
			"cdnprovider.test. 3600 NS ns.cdnprovider.test.",
			"ns.cdnprovider.test. 3600 A 127.53.2.2")},
		{Origin: "example.test.", Server: "127.53.2.1", Text: customer},
		{Origin: "cdnprovider.test.", Server: "127.53.2.2", Text: lines(
			"cdnprovider.test. 3600 SOA ns.cdnprovider.test. h.cdnprovider.test. 1 7200 900 1209600 300",
			"cdnprovider.test. 3600 NS ns.cdnprovider.test.",
			"ns.cdnprovider.test. 3600 A 127.53.2.2",
			"live.example.cdnprovider.test. 300 A 127.0.0.1",
			"app.example.cdnprovider.test. 300 A 127.0.0.1")},
	}
}

const takeoverCustomer = `$ORIGIN example.test.
$TTL 300
@     SOA ns1 hostmaster 1 7200 900 1209600 300
@     NS  ns1
ns1   A   127.53.2.1
www   CNAME live.example.cdnprovider.test.
sub   CNAME sub.example.cdnprovider.test.
app   CNAME app.example.cdnprovider.test.
@     MX  10 mx.example.cdnprovider.test.
`

// cdnFingerprints is a --fingerprints file naming the guide's CDN.
const cdnFingerprints = `[{"service": "CDN Provider", "cname": ["cdnprovider.test"], "fingerprint": "no such app",
  "nxdomain": false, "status": "Vulnerable", "vulnerable": true, "http_status": null}]`

// TestAuditTakeover runs "rensa audit takeover" over a zone file: the
// released CDN name and MX target are found, the live site is not; with
// --http and the CDN's fingerprint, the site whose page says "no such
// app" is found too. JSON is compared with a golden file.
func TestAuditTakeover(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	zoneFile := filepath.Join(dir, "example.test.zone")
	writeFile(t, zoneFile, takeoverCustomer)
	fpFile := filepath.Join(dir, "fingerprints.json")
	writeFile(t, fpFile, cdnFingerprints)
	addr := auditResolver(t, takeoverWorld(takeoverCustomer))

	code, stdout, stderr := runAuditCLI("audit", "takeover", "--resolver", addr, "--zone", zoneFile)
	if code != 1 || !strings.Contains(stdout, "sub.example.test.") || !strings.Contains(stdout, "5 records checked, 2 dangling (most severe: medium)") || strings.Contains(stdout, "www.example.test.") {
		t.Errorf("text: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, _ := runAuditCLI("audit", "takeover", "--resolver", addr, "--zone", zoneFile, "--fail-on", "high"); code != 0 {
		t.Errorf("--fail-on high: exit %d, want 0", code)
	}

	code, stdout, _ = runAuditCLI("audit", "takeover", "--resolver", addr, "--zone", zoneFile, "--json")
	if code != 1 {
		t.Errorf("--json: exit %d", code)
	}
	checkGolden(t, "audit_takeover.json", strings.ReplaceAll(stdout, dir+string(filepath.Separator), ""))

	// Names instead of a zone file.
	code, stdout, _ = runAuditCLI("audit", "takeover", "--resolver", addr, "sub.example.test", "www.example.test", "--json")
	var rep struct {
		Scanned  int `json:"scanned"`
		Findings []struct {
			Owner, Reason, Severity string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 1 || rep.Scanned != 2 || len(rep.Findings) != 1 || rep.Findings[0].Owner != "sub.example.test." {
		t.Errorf("names: exit %d %+v %v", code, rep, err)
	}

	// --http with the CDN's fingerprint: app.example.test's page says
	// "no such app".
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Host, "app.") {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "<h1>No such app</h1>")
			return
		}
		fmt.Fprint(w, "welcome")
	}))
	defer web.Close()
	var out, errOut bytes.Buffer
	opts := auditOptions{check: "takeover", resolver: addr, timeout: 5 * time.Second, zones: stringList{zoneFile}, http: true,
		fingerprints: fpFile, failOn: "high", sarif: true,
		httpDial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, web.Listener.Addr().String())
		}}
	err := runAudit(context.Background(), opts, &out, &errOut)
	if exitCode(err) != 1 {
		t.Errorf("--http: %v\n%s", err, errOut.String())
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID     string         `json:"ruleId"`
				Properties map[string]any `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("SARIF: %v\n%s", err, out.String())
	}
	rules := map[string]bool{}
	for _, r := range log.Runs[0].Results {
		rules[r.RuleID] = true
		if r.RuleID == "takeover/http-fingerprint" && (r.Properties["service"] != "CDN Provider" || r.Properties["severity"] != "high") {
			t.Errorf("http finding: %v", r.Properties)
		}
	}
	if !rules["takeover/http-fingerprint"] || !rules["takeover/nxdomain"] || len(log.Runs[0].Results) != 3 {
		t.Errorf("SARIF results: %+v", log.Runs[0].Results)
	}
}

// TestAuditTakeoverResolverDown: no answer from the resolver is exit 2,
// not "no findings".
func TestAuditTakeoverResolverDown(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runAuditCLI("audit", "takeover", "--resolver", auditBlackHole(t), "--timeout", "200ms", "sub.example.test")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "the resolver does not answer") {
		t.Errorf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

// TestAuditProgressBar draws the bar a terminal would see.
func TestAuditProgressBar(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := progressBar(&b)
	p(1, 3)
	p(3, 3)
	want := "\rrensa: checking [##########                    ] 1/3" + "\rrensa: checking [##############################] 3/3\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	if isTerminal(&b) {
		t.Error("a buffer is not a terminal")
	}
}

// TestAuditScripts runs the audit's command-line scenarios,
// testdata/audit*.txtar (TestScripts runs them too, with all others).
func TestAuditScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "audit*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no audit scripts: %v", err)
	}
	testscript.Run(t, testscript.Params{Files: files})
}
