package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/server"
)

func TestQueryParseArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		want    func(o *queryOptions) // applied to the defaults
		wantErr string
	}{
		{args: []string{"www.example.test"}, want: func(o *queryOptions) { o.name = "www.example.test." }},
		{args: []string{"example.test.", "mx"}, want: func(o *queryOptions) { o.name, o.qtype = "example.test.", dns.TypeMX }},
		{args: []string{"version.bind", "CH", "TXT"}, want: func(o *queryOptions) {
			o.name, o.qtype, o.qclass = "version.bind.", dns.TypeTXT, dns.ClassCHAOS
		}},
		{args: []string{"example.test", "TYPE65", "CLASS3"}, want: func(o *queryOptions) {
			o.name, o.qtype, o.qclass = "example.test.", 65, 3
		}},
		{args: []string{"example.test", "ANY", "ANY"}, want: func(o *queryOptions) {
			o.name, o.qtype, o.qclass = "example.test.", dns.TypeANY, dns.ClassANY
		}},
		{args: []string{"+dnssec", "@127.0.0.1:5353", "example.test", "+cd", "DNSKEY", "+norec", "+tcp", "+nsid", "+bufsize=4096", "+noadflag"},
			want: func(o *queryOptions) {
				o.server, o.serverSet = serverSpec{host: "127.0.0.1", port: "5353"}, true
				o.name, o.qtype = "example.test.", dns.TypeDNSKEY
				o.dnssec, o.cd, o.rec, o.tcp, o.nsid, o.adflag = true, true, false, true, true, false
				o.bufsize, o.bufsizeSet = 4096, true
			}},
		{args: []string{"example.test", "+tcp", "+notcp"}, want: func(o *queryOptions) { o.name = "example.test." }},
		{args: []string{"@::1", "."}, want: func(o *queryOptions) {
			o.server, o.serverSet, o.name = serverSpec{host: "::1", port: "53"}, true, "."
		}},
		{args: []string{"example.test", "+noedns"}, want: func(o *queryOptions) { o.name, o.edns = "example.test.", false }},

		{args: nil, wantErr: "missing NAME"},
		{args: []string{"+tcp", "@127.0.0.1"}, wantErr: "missing NAME"},
		{args: []string{"example.test", "+frob"}, wantErr: `unknown option "+frob"`},
		{args: []string{"example.test", "+tcp=yes"}, wantErr: "option +tcp takes no value"},
		{args: []string{"example.test", "+bufsize"}, wantErr: "+bufsize needs a number"},
		{args: []string{"example.test", "+bufsize=65536"}, wantErr: "+bufsize needs a number"},
		{args: []string{"example.test", "+bufsize=-1"}, wantErr: "+bufsize needs a number"},
		{args: []string{"example.test", "A", "AAAA"}, wantErr: "more than one TYPE or CLASS"},
		{args: []string{"example.test", "IN", "CH"}, wantErr: "more than one TYPE or CLASS"},
		{args: []string{"example.test", "www.example.test"}, wantErr: "is neither a TYPE nor a CLASS"},
		{args: []string{"example.test", "AXFR"}, wantErr: "zone transfers"},
		{args: []string{"a..b"}, wantErr: "invalid NAME"},
		{args: []string{"@127.0.0.1", "@127.0.0.2", "x"}, wantErr: "more than one @SERVER"},
		{args: []string{"@tls://127.0.0.1", "x", "+tcp"}, wantErr: "+tcp applies to plain DNS only"},
		{args: []string{"example.test", "+noedns", "+dnssec"}, wantErr: "+noedns conflicts"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			got := defaultQueryOptions()
			err := got.parseArgs(tt.args)
			if tt.wantErr != "" {
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaultQueryOptions()
			tt.want(&want)
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestQueryParseServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    serverSpec
		wantErr string
	}{
		{in: "192.0.2.1", want: serverSpec{host: "192.0.2.1", port: "53"}},
		{in: "192.0.2.1:5353", want: serverSpec{host: "192.0.2.1", port: "5353"}},
		{in: "::1", want: serverSpec{host: "::1", port: "53"}},
		{in: "2001:db8::53", want: serverSpec{host: "2001:db8::53", port: "53"}},
		{in: "[::1]", want: serverSpec{host: "::1", port: "53"}},
		{in: "[::1]:5353", want: serverSpec{host: "::1", port: "5353"}},
		{in: "fe80::1%lo", want: serverSpec{host: "fe80::1%lo", port: "53"}},
		{in: "ns1.example.test", want: serverSpec{host: "ns1.example.test", port: "53"}},
		{in: "ns1.example.test:10053", want: serverSpec{host: "ns1.example.test", port: "10053"}},

		{in: "", wantErr: "not an IP address or host name"},
		{in: "192.0.2.1:0", wantErr: "not a number from 1 to 65535"},
		{in: "192.0.2.1:99999", wantErr: "not a number from 1 to 65535"},
		{in: "192.0.2.1:", wantErr: "not a number from 1 to 65535"},
		{in: "[::1", wantErr: "missing ']'"},
		{in: "[::1]5353", wantErr: "after ']'"},
		{in: "[192.0.2.1]:53", wantErr: "not an IPv6 address"},
		{in: "::1::2", wantErr: "not an IPv6 address"},
		{in: "a b", wantErr: "not an IP address or host name"},
		{in: "tls://192.0.2.1", want: serverSpec{scheme: "tls", host: "192.0.2.1", port: "853"}},
		{in: "TLS://[::1]:8853", want: serverSpec{scheme: "tls", host: "::1", port: "8853"}},
		{in: "https://dns.example.test/dns-query", want: serverSpec{scheme: "https", host: "dns.example.test", port: "443", path: "/dns-query"}},
		{in: "https://127.0.0.1:8443", want: serverSpec{scheme: "https", host: "127.0.0.1", port: "8443", path: "/dns-query"}},
		{in: "https://[::1]:8443/q?x=1", want: serverSpec{scheme: "https", host: "::1", port: "8443", path: "/q?x=1"}},
		{in: "quic://192.0.2.1", want: serverSpec{scheme: "quic", host: "192.0.2.1", port: "853"}},
		{in: "tls://192.0.2.1/path", wantErr: "not an IP address or host name"},
		{in: "gopher://192.0.2.1", wantErr: `unknown server scheme "gopher"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseServer(tt.in)
			if tt.wantErr != "" {
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestQueryServerAddress(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"::1": "[::1]:53", "192.0.2.1:5353": "192.0.2.1:5353"} {
		s, err := parseServer(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.address(); got != want {
			t.Errorf("address of @%s = %s, want %s", in, got, want)
		}
	}
}

func TestQueryFirstNameserver(t *testing.T) {
	t.Parallel()
	tests := []struct{ conf, want string }{
		{"# generated\nsearch example.test\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n", "192.0.2.53"},
		{"nameserver\tfe80::1%eth0\n", "fe80::1%eth0"},
		{"; nameserver 192.0.2.1\n#nameserver 192.0.2.2\nnameserver not-an-ip\nnameserver ::1\n", "::1"},
		{"options ndots:2\n", ""},
	}
	for _, tt := range tests {
		if got := firstNameserver(strings.NewReader(tt.conf)); got != tt.want {
			t.Errorf("firstNameserver(%q) = %q, want %q", tt.conf, got, tt.want)
		}
	}
}

func TestQueryBuildQuery(t *testing.T) {
	t.Parallel()
	o := defaultQueryOptions()
	if err := o.parseArgs([]string{"example.test", "DNSKEY", "+dnssec", "+cd", "+norec", "+nsid", "+bufsize=4096"}); err != nil {
		t.Fatal(err)
	}
	m := buildQuery(o)
	q := m.Question[0]
	if q.Name != "example.test." || q.Qtype != dns.TypeDNSKEY || q.Qclass != dns.ClassINET {
		t.Errorf("question = %v", q)
	}
	if m.RecursionDesired || !m.CheckingDisabled || !m.AuthenticatedData || m.Response {
		t.Errorf("header flags: rd=%v cd=%v ad=%v qr=%v, want rd=false cd=true ad=true qr=false",
			m.RecursionDesired, m.CheckingDisabled, m.AuthenticatedData, m.Response)
	}
	opt := m.IsEdns0()
	if opt == nil || !opt.Do() || opt.UDPSize() != 4096 || len(opt.Option) != 1 || opt.Option[0].Option() != dns.EDNS0NSID {
		t.Errorf("OPT = %v, want DO, udp 4096 and an empty NSID option", opt)
	}

	o = defaultQueryOptions()
	if err := o.parseArgs([]string{"example.test", "+noedns"}); err != nil {
		t.Fatal(err)
	}
	if m := buildQuery(o); m.IsEdns0() != nil || len(m.Extra) != 0 {
		t.Errorf("+noedns query has an additional section: %v", m.Extra)
	}
}

// exampleHandler answers like a tiny authoritative server for
// example.test: www has an A record, everything else is NXDOMAIN. It
// echoes EDNS (DO bit, NSID "rensa" when asked) and sends each query to
// last, if set and not full.
type exampleHandler struct {
	last chan *dns.Msg
}

func (h exampleHandler) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	select {
	case h.last <- q.Copy():
	default:
	}
	r := new(dns.Msg)
	r.SetReply(q)
	r.Authoritative = true
	switch strings.ToLower(q.Question[0].Name) {
	case "www.example.test.":
		rr, _ := dns.NewRR("www.example.test. 300 IN A 192.0.2.1")
		r.Answer = append(r.Answer, rr)
	case "servfail.example.test.":
		r.Authoritative = false
		r.Rcode = dns.RcodeServerFailure
	default:
		r.Rcode = dns.RcodeNameError
		soa, _ := dns.NewRR("example.test. 3600 IN SOA ns.example.test. admin.example.test. 1 7200 3600 1209600 300")
		r.Ns = append(r.Ns, soa)
	}
	if opt := q.IsEdns0(); opt != nil {
		ro := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		ro.SetUDPSize(1232)
		if opt.Do() {
			ro.SetDo()
		}
		for _, o := range opt.Option {
			if o.Option() == dns.EDNS0NSID {
				ro.Option = append(ro.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: hex.EncodeToString([]byte("rensa"))})
			}
		}
		r.Extra = append(r.Extra, ro)
	}
	w.WriteMsg(r)
}

// startQueryServer runs h on 127.0.0.1:0 over network ("udp" or "tcp")
// until the test ends and returns the address.
func startQueryServer(t *testing.T, network string, h dns.Handler) string {
	t.Helper()
	srv := &dns.Server{Handler: h}
	var addr string
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.PacketConn, addr = pc, pc.LocalAddr().String()
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.Listener, addr = l, l.Addr().String()
	}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("dns server: %v", err)
	}
	t.Cleanup(func() {
		srv.Shutdown()
		<-done
	})
	return addr
}

// runRensa runs the whole program in-process and returns its exit code,
// stdout and stderr.
func runRensa(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// normaliseDig replaces the parts of dig-style output that change from
// run to run: the ID, the query time and the server port.
func normaliseDig(s, port string) string {
	s = regexp.MustCompile(`id: \d+`).ReplaceAllString(s, "id: ID")
	s = regexp.MustCompile(`Query time: \d+ msec`).ReplaceAllString(s, "Query time: T msec")
	return strings.ReplaceAll(s, "#"+port+"(", "#PORT(")
}

func TestQueryText(t *testing.T) {
	t.Parallel()
	addr := startQueryServer(t, "udp", exampleHandler{})
	_, port, _ := net.SplitHostPort(addr)

	code, stdout, stderr := runRensa(t, "query", "+dnssec", "@"+addr, "www.example.test", "+nsid")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	want := `;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: ID
;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags: do; udp: 1232
; NSID: 72 65 6e 73 61 ("rensa")
;; QUESTION SECTION:
;www.example.test.		IN	A

;; ANSWER SECTION:
www.example.test.	300	IN	A	192.0.2.1

;; Query time: T msec
;; SERVER: 127.0.0.1#PORT(127.0.0.1) (UDP)
;; MSG SIZE  rcvd: 86
`
	if got := normaliseDig(stdout, port); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	if stderr != "" {
		t.Errorf("unexpected stderr: %s", stderr)
	}
}

func TestQueryNXDOMAINText(t *testing.T) {
	t.Parallel()
	addr := startQueryServer(t, "udp", exampleHandler{})
	code, stdout, stderr := runRensa(t, "query", "@"+addr, "nope.example.test", "AAAA", "+noedns", "+norec", "+noadflag")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"status: NXDOMAIN",
		";; flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 0\n\n;; QUESTION SECTION:\n;nope.example.test.\t\tIN\tAAAA\n",
		"\n;; AUTHORITY SECTION:\nexample.test.\t3600\tIN\tSOA\tns.example.test. admin.example.test. 1 7200 3600 1209600 300\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "OPT PSEUDOSECTION") || strings.Contains(stdout, "ANSWER SECTION") {
		t.Errorf("output has sections it should not:\n%s", stdout)
	}
}

func TestQueryJSON(t *testing.T) {
	t.Parallel()
	addr := startQueryServer(t, "udp", exampleHandler{})
	code, stdout, stderr := runRensa(t, "query", "@"+addr, "www.example.test", "A", "IN", "+nsid", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "{\n  \"server\": ") {
		t.Errorf("JSON does not start with the server field:\n%s", stdout)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, stdout)
	}
	if _, ok := got["time_ms"].(float64); !ok {
		t.Errorf("time_ms = %v, want a number", got["time_ms"])
	}
	if _, ok := got["id"].(float64); !ok {
		t.Errorf("id = %v, want a number", got["id"])
	}
	delete(got, "time_ms")
	delete(got, "id")
	wantText := `{
  "server": "` + addr + `",
  "protocol": "udp",
  "opcode": "QUERY",
  "rcode": "NOERROR",
  "flags": {"aa": true, "tc": false, "rd": true, "ra": false, "ad": false, "cd": false},
  "question": [{"name": "www.example.test.", "class": "IN", "type": "A"}],
  "answer": [{"name": "www.example.test.", "ttl": 300, "class": "IN", "type": "A", "data": "192.0.2.1"}],
  "authority": [],
  "additional": [],
  "edns": {"version": 0, "udp": 1232, "do": false, "options": [{"code": 3, "name": "NSID", "data": "72 65 6e 73 61 (\"rensa\")"}]},
  "msg_size": 86,
  "near_misses": 0
}`
	var want map[string]any
	if err := json.Unmarshal([]byte(wantText), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON:\n%s\nwant (besides id and time_ms):\n%s", stdout, wantText)
	}
}

// TestQueryServfailExitsZero: any reply is success for the command.
func TestQueryServfailExitsZero(t *testing.T) {
	t.Parallel()
	addr := startQueryServer(t, "udp", exampleHandler{})
	code, stdout, stderr := runRensa(t, "query", "@"+addr, "servfail.example.test", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, `"rcode": "SERVFAIL"`) {
		t.Errorf("output lacks the SERVFAIL rcode:\n%s", stdout)
	}
}

func TestQueryTCP(t *testing.T) {
	t.Parallel()
	addr := startQueryServer(t, "tcp", exampleHandler{})
	code, stdout, stderr := runRensa(t, "query", "@"+addr, "www.example.test", "+tcp")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "(127.0.0.1) (TCP)\n") {
		t.Errorf("output does not name TCP:\n%s", stdout)
	}
}

// TestQueryFlagsReachServer checks the header bits and EDNS the server
// actually receives.
func TestQueryFlagsReachServer(t *testing.T) {
	t.Parallel()
	h := exampleHandler{last: make(chan *dns.Msg, 1)}
	addr := startQueryServer(t, "udp", h)
	code, _, stderr := runRensa(t, "query", "@"+addr, "www.example.test", "+cd", "+norec", "+noadflag", "+bufsize=512", "+dnssec")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	q := <-h.last
	if q.RecursionDesired || !q.CheckingDisabled || q.AuthenticatedData {
		t.Errorf("server saw rd=%v cd=%v ad=%v, want rd=false cd=true ad=false", q.RecursionDesired, q.CheckingDisabled, q.AuthenticatedData)
	}
	if opt := q.IsEdns0(); opt == nil || opt.UDPSize() != 512 || !opt.Do() {
		t.Errorf("server saw OPT %v, want udp 512 with DO", opt)
	}
}

// TestQueryNoReply: a server that never answers makes the command fail
// with exit 1 and a transport error.
func TestQueryNoReply(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // bound, never read
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	start := time.Now()
	code, stdout, stderr := runRensa(t, "query", "@"+pc.LocalAddr().String(), "www.example.test", "--timeout", "150ms")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if stdout != "" || !strings.HasPrefix(stderr, "rensa: error: transport: timeout") {
		t.Errorf("stdout %q, stderr %q; want nothing and a timeout error", stdout, stderr)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("--timeout ignored: took %v", time.Since(start))
	}
}

// unboundTLSConf makes Unbound serve one local record over plain DNS, DoT and DoH.
const unboundTLSConf = `server:
	verbosity: 1
	interface: 127.0.0.1@%[1]d
	interface: 127.0.0.1@%[2]d
	interface: 127.0.0.1@%[3]d
	port: %[1]d
	tls-port: %[2]d
	https-port: %[3]d
	tls-service-key: %[4]q
	tls-service-pem: %[5]q
	http-endpoint: "/dns-query"
	do-ip6: no
	num-threads: 1
	so-reuseport: no
	username: ""
	chroot: ""
	pidfile: ""
	directory: %[6]q
	use-syslog: no
	logfile: ""
	module-config: "iterator"
	access-control: 127.0.0.0/8 allow
	local-zone: "unbound-query.test." static
	local-data: "www.unbound-query.test. 300 IN A 192.0.2.54"
remote-control:
	control-enable: no
`

// TestQueryEncryptedAgainstUnbound runs "rensa query @tls://" and "@https://" against
// Unbound's DoT and DoH listeners (skipped when Unbound is not installed).
func TestQueryEncryptedAgainstUnbound(t *testing.T) {
	t.Parallel()
	unbound, err := exec.LookPath("unbound")
	if err != nil {
		if unbound, err = exec.LookPath("/usr/sbin/unbound"); err != nil {
			t.Skip("unbound is not installed")
		}
	}
	dir := t.TempDir()
	certFile, keyFile, caFile, err := server.SelfSigned(filepath.Join(dir, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	var ports [3]int
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	conf := filepath.Join(dir, "unbound.conf")
	text := fmt.Sprintf(unboundTLSConf, ports[0], ports[1], ports[2], keyFile, certFile, dir)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, unbound, "-d", "-c", conf)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("unbound log:\n%s", &logs)
		}
	})
	tlsAt := fmt.Sprintf("@tls://127.0.0.1:%d", ports[1])
	httpsAt := fmt.Sprintf("@https://127.0.0.1:%d/dns-query", ports[2])
	deadline := time.Now().Add(10 * time.Second)
	for { // Unbound is ready when its DoT port answers
		code, _, _ := runRensa(t, "query", tlsAt, "www.unbound-query.test", "--ca", caFile, "--timeout", "500ms")
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("unbound's DoT listener did not answer")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for at, proto := range map[string]string{tlsAt: "(TLS)", httpsAt: "(HTTPS)"} {
		code, stdout, stderr := runRensa(t, "query", at, "www.unbound-query.test", "--ca", caFile)
		if code != 0 {
			t.Fatalf("%s: exit %d:\n%s", at, code, stderr)
		}
		if !strings.Contains(stdout, "192.0.2.54") || !strings.Contains(stdout, proto) {
			t.Errorf("%s: output:\n%s", at, stdout)
		}
	}
}
