package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/transport"
)

var _ = register(command{
	name:    "query",
	summary: "send one DNS query and print the reply, like dig",
	usage:   queryUsage,
	run:     queryMain,
})

const queryUsage = `usage: rensa query [@[SCHEME://]SERVER[:PORT][/PATH]] NAME [TYPE] [CLASS] [+OPTION...] [flags]

Send one query and print the reply the way dig does, or as JSON.

SERVER is an IP address or a host name with an optional port (default 53):
@192.0.2.1, @192.0.2.1:5353, @::1, @[::1]:5353, @ns1.example. Without it
the first nameserver in /etc/resolv.conf is asked, else 127.0.0.1.

A SCHEME picks an encrypted transport:
  @tls://SERVER[:PORT]          DNS over TLS (RFC 7858; port 853)
  @https://SERVER[:PORT][/PATH] DNS over HTTPS (RFC 8484; port 443, path /dns-query)
  @quic://SERVER[:PORT]         DNS over QUIC (RFC 9250; port 853)
The server's certificate must chain to the system roots and name SERVER, or
to the CAs in --ca FILE; --pin BASE64 accepts instead a certificate whose
public key has that SHA-256 digest (RFC 7858 §4.2 SPKI pin).
TYPE defaults to A and CLASS to IN; both may follow NAME in either order and
accept the generic forms TYPE65 and CLASS3 (RFC 3597).

Options, in any order:
  +[no]tcp       ask over TCP only (default: UDP, then TCP if truncated)
  +[no]dnssec    set the DO bit to ask for DNSSEC records (RFC 3225)
  +[no]cd        set CD: ask a validating resolver not to validate
  +[no]rec       set RD to ask for recursion (default on; +norec clears it)
  +[no]adflag    set AD to ask for the authenticated-data bit (default on)
  +[no]nsid      ask for the server's name server ID (RFC 5001)
  +[no]edns      send an EDNS OPT record (default on)
  +bufsize=N     EDNS UDP payload size to advertise (default 1232)

Exit status: 0 when a reply arrived, whatever its RCODE; 1 when none did;
2 for usage errors.

Examples:
  rensa query @127.0.0.1:5353 www.example.test A
  rensa query @::1 example.test DNSKEY +dnssec +cd
  rensa query @[::1]:5353 example.test SOA +norec --json
  rensa query version.bind TXT CH +tcp
  rensa query @tls://127.0.0.1:8853 www.example.test --ca selfsigned/ca.pem
  rensa query @https://dns.example/dns-query example.test AAAA
  rensa query @quic://[::1]:8853 example.test --pin 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=

Flags:
`

const (
	// defaultQueryBufsize is the advertised EDNS UDP payload size: the
	// DNS Flag Day 2020 value, small enough to avoid IP fragmentation.
	defaultQueryBufsize = 1232
	// defaultQueryServer is asked when no @SERVER is given and
	// resolv.conf names none.
	defaultQueryServer = "127.0.0.1"
	// resolvConfPath names the system resolver configuration.
	resolvConfPath = "/etc/resolv.conf"
)

// queryOptions is everything "rensa query" was told: the flags, @SERVER,
// NAME, TYPE, CLASS and the +options.
type queryOptions struct {
	json    bool
	timeout time.Duration
	ca      string // --ca: CA certificates for an encrypted server
	pin     string // --pin: SPKI pin for an encrypted server

	server    serverSpec // zero host: from resolv.conf
	serverSet bool
	name      string // fully qualified
	qtype     uint16
	qclass    uint16

	tcp, dnssec, cd, rec, adflag, nsid, edns bool

	bufsize    uint16
	bufsizeSet bool
}

// defaultQueryOptions returns the options of a bare "rensa query NAME".
func defaultQueryOptions() queryOptions {
	return queryOptions{
		timeout: transport.DefaultTimeout,
		qtype:   dns.TypeA,
		qclass:  dns.ClassINET,
		rec:     true,
		adflag:  true,
		edns:    true,
		bufsize: defaultQueryBufsize,
	}
}

// addFlags registers the -- flags of rensa query on fs, with o's current
// values as defaults.
func (o *queryOptions) addFlags(fs *flag.FlagSet) {
	fs.BoolVar(&o.json, "json", o.json, "print the reply as one JSON object")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "wait `D` for a reply, per attempt (UDP, then TCP)")
	fs.StringVar(&o.ca, "ca", o.ca, "trust the CA certificates in PEM `FILE` for tls://, https:// and quic:// servers")
	fs.StringVar(&o.pin, "pin", o.pin, "accept a tls://, https:// or quic:// server whose public key has this SPKI pin (`BASE64` SHA-256)")
}

// queryMain is the command-table entry: it parses args into
// queryOptions and runs the query.
func queryMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts := defaultQueryOptions()
	fs := newFlagSet("query", queryUsage, stderr)
	opts.addFlags(fs)
	positional, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := opts.parseArgs(positional); err != nil {
		return err
	}
	if opts.timeout <= 0 {
		return errUsage("--timeout must be positive, got %v", opts.timeout)
	}
	return runQuery(ctx, opts, stdout, stderr)
}

// parseArgs reads the positional arguments: @SERVER, NAME, TYPE, CLASS
// and +options, the last two kinds anywhere.
func (o *queryOptions) parseArgs(args []string) error {
	var words []string
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "+"):
			if err := o.setPlus(a[1:]); err != nil {
				return err
			}
		case strings.HasPrefix(a, "@"):
			if o.serverSet {
				return errUsage("more than one @SERVER (%s)", a)
			}
			spec, err := parseServer(a[1:])
			if err != nil {
				return err
			}
			o.server, o.serverSet = spec, true
		default:
			words = append(words, a)
		}
	}
	if len(words) == 0 {
		return errUsage("missing NAME")
	}
	name, err := parseQueryName(words[0])
	if err != nil {
		return err
	}
	o.name = name
	if err := o.setTypeClass(words[1:]); err != nil {
		return err
	}
	if !o.edns && (o.dnssec || o.nsid || o.bufsizeSet) {
		return errUsage("+noedns conflicts with +dnssec, +nsid and +bufsize, which need EDNS")
	}
	if o.server.scheme == "" && (o.ca != "" || o.pin != "") {
		return errUsage("--ca and --pin apply to tls://, https:// and quic:// servers only")
	}
	if o.server.scheme != "" && o.tcp {
		return errUsage("+tcp applies to plain DNS only; @%s:// is already a stream transport", o.server.scheme)
	}
	return nil
}

// setTypeClass reads the words after NAME: at most one TYPE and one
// CLASS, in either order. A word that is both (ANY) is the TYPE first.
func (o *queryOptions) setTypeClass(words []string) error {
	var typeSet, classSet bool
	for _, w := range words {
		t, isType := parseType(w)
		c, isClass := parseClass(w)
		switch {
		case isType && !typeSet:
			o.qtype, typeSet = t, true
		case isClass && !classSet:
			o.qclass, classSet = c, true
		case isType || isClass:
			return errUsage("more than one TYPE or CLASS (%q)", w)
		default:
			return errUsage("%q is neither a TYPE nor a CLASS (NAME comes first, once)", w)
		}
	}
	if o.qtype == dns.TypeAXFR || o.qtype == dns.TypeIXFR {
		return errUsage("zone transfers (AXFR, IXFR) are not supported by rensa query")
	}
	return nil
}

// queryBoolOption returns the field a +[no]option name sets, or nil.
func queryBoolOption(o *queryOptions, name string) *bool {
	switch name {
	case "tcp":
		return &o.tcp
	case "dnssec":
		return &o.dnssec
	case "cd":
		return &o.cd
	case "rec":
		return &o.rec
	case "adflag":
		return &o.adflag
	case "nsid":
		return &o.nsid
	case "edns":
		return &o.edns
	}
	return nil
}

// setPlus applies one +option (without the "+").
func (o *queryOptions) setPlus(opt string) error {
	name, value, hasValue := strings.Cut(opt, "=")
	if name == "bufsize" {
		n, err := strconv.ParseUint(value, 10, 16)
		if !hasValue || err != nil {
			return errUsage("+bufsize needs a number from 0 to 65535, got %q", "+"+opt)
		}
		o.bufsize, o.bufsizeSet = uint16(n), true
		return nil
	}
	on := true
	field := queryBoolOption(o, name)
	if field == nil && strings.HasPrefix(name, "no") {
		on, field = false, queryBoolOption(o, name[2:])
	}
	if field == nil {
		return errUsage("unknown option %q (known: +[no]tcp +[no]dnssec +[no]cd +[no]rec +[no]adflag +[no]nsid +[no]edns +bufsize=N)", "+"+opt)
	}
	if hasValue {
		return errUsage("option +%s takes no value", name)
	}
	*field = on
	return nil
}

// parseQueryName checks NAME and makes it fully qualified.
func parseQueryName(s string) (string, error) {
	name := dns.Fqdn(s)
	if _, ok := dns.IsDomainName(name); !ok || s == "" {
		return "", errUsage("invalid NAME %q", s)
	}
	return name, nil
}

// parseType reads a TYPE mnemonic (A, dnskey) or generic TYPEnnn.
func parseType(s string) (uint16, bool) {
	u := strings.ToUpper(s)
	if t, ok := dns.StringToType[u]; ok && t != dns.TypeNone {
		return t, true
	}
	if n, ok := strings.CutPrefix(u, "TYPE"); ok {
		if t, err := strconv.ParseUint(n, 10, 16); err == nil {
			return uint16(t), true
		}
	}
	return 0, false
}

// parseClass reads a CLASS mnemonic (IN, CH) or generic CLASSnnn.
func parseClass(s string) (uint16, bool) {
	u := strings.ToUpper(s)
	if c, ok := dns.StringToClass[u]; ok {
		return c, true
	}
	if n, ok := strings.CutPrefix(u, "CLASS"); ok {
		if c, err := strconv.ParseUint(n, 10, 16); err == nil {
			return uint16(c), true
		}
	}
	return 0, false
}

// serverSpec is a parsed @SERVER argument. Its scheme selects the
// transport: "" is classic DNS (Do53), "tls" DoT, "https" DoH and "quic"
// DoQ.
type serverSpec struct {
	scheme string
	host   string // IP literal without brackets, or a host name
	port   string
	path   string // the DoH path, "/dns-query" by default; empty otherwise
}

// address returns the server as host:port for dialling.
func (s serverSpec) address() string { return net.JoinHostPort(s.host, s.port) }

// serverScheme returns the default port of a @SCHEME:// prefix, whether
// rensa query supports it yet, and whether it is known at all.
func serverScheme(scheme string) (port string, supported, known bool) {
	switch scheme {
	case "":
		return "53", true, true
	case "tls", "quic":
		return "853", true, true
	case "https":
		return "443", true, true
	}
	return "", false, false
}

// parseServer parses the text after "@": [SCHEME://]HOST[:PORT], with an
// IPv6 HOST written bare (::1) or in brackets ([::1]:53).
func parseServer(s string) (serverSpec, error) {
	var spec serverSpec
	rest := s
	if scheme, after, ok := strings.Cut(s, "://"); ok {
		spec.scheme, rest = strings.ToLower(scheme), after
	}
	port, supported, known := serverScheme(spec.scheme)
	switch {
	case !known:
		return spec, errUsage("unknown server scheme %q in @%s (use @HOST[:PORT])", spec.scheme, s)
	case !supported:
		return spec, errUsage("@%s:// servers are not supported yet (use @HOST[:PORT] for DNS over UDP/TCP)", spec.scheme)
	}
	if spec.scheme == "https" {
		spec.path = "/dns-query"
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest, spec.path = rest[:i], rest[i:]
		}
	}
	host, port, err := splitServerHostPort(rest, port)
	if err != nil {
		return spec, errUsage("bad server @%s: %v", s, err)
	}
	spec.host, spec.port = host, port
	return spec, nil
}

// splitServerHostPort splits HOST[:PORT] using defPort when there is no
// port, and checks both parts.
func splitServerHostPort(s, defPort string) (host, port string, err error) {
	port = defPort
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf("missing ']'")
		}
		host = s[1:end]
		if after := s[end+1:]; after != "" {
			p, ok := strings.CutPrefix(after, ":")
			if !ok {
				return "", "", fmt.Errorf("unexpected %q after ']'", after)
			}
			port = p
		}
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return "", "", fmt.Errorf("%q in brackets is not an IPv6 address", host)
		}
	case strings.Count(s, ":") > 1:
		host = s
		if _, err := netip.ParseAddr(host); err != nil {
			return "", "", fmt.Errorf("%q is not an IPv6 address (write [ADDR]:PORT for a port)", host)
		}
	default:
		host = s
		if h, p, ok := strings.Cut(s, ":"); ok {
			host, port = h, p
		}
		if _, err := netip.ParseAddr(host); err != nil {
			if _, ok := dns.IsDomainName(host); !ok || host == "" || strings.ContainsAny(host, "/\\ ") {
				return "", "", fmt.Errorf("%q is not an IP address or host name", host)
			}
		}
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", "", fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return host, port, nil
}

// firstNameserver returns the address of the first "nameserver" line of a
// resolv.conf, or "" if there is none.
func firstNameserver(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "nameserver" {
			if _, err := netip.ParseAddr(f[1]); err == nil {
				return f[1]
			}
		}
	}
	return ""
}

// systemServer is the server asked when no @SERVER is given: the first
// nameserver of resolv.conf, else defaultQueryServer.
func systemServer(path string) serverSpec {
	spec := serverSpec{host: defaultQueryServer, port: "53"}
	f, err := os.Open(path)
	if err != nil {
		return spec
	}
	defer f.Close()
	if ns := firstNameserver(f); ns != "" {
		spec.host = ns
	}
	return spec
}

// buildQuery returns the query message the options describe.
func buildQuery(o queryOptions) *dns.Msg {
	m := new(dns.Msg)
	m.Opcode = dns.OpcodeQuery
	m.Question = []dns.Question{{Name: o.name, Qtype: o.qtype, Qclass: o.qclass}}
	m.RecursionDesired = o.rec
	m.CheckingDisabled = o.cd
	m.AuthenticatedData = o.adflag
	if o.edns {
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(o.bufsize)
		if o.dnssec {
			opt.SetDo()
		}
		if o.nsid {
			opt.Option = append(opt.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		}
		m.Extra = append(m.Extra, opt)
	}
	return m
}

// queryResult is one finished exchange, ready to print.
type queryResult struct {
	server  serverSpec
	reply   *dns.Msg
	outcome transport.Outcome
	elapsed time.Duration
}

// runQuery sends the query opts describes and prints the reply to stdout,
// as text or JSON. It returns an error only when no reply arrived.
func runQuery(ctx context.Context, opts queryOptions, stdout, stderr io.Writer) error {
	server := opts.server
	if !opts.serverSet {
		server = systemServer(resolvConfPath)
	}
	start := time.Now()
	reply, outcome, err := exchangeQuery(ctx, opts, server)
	if err != nil {
		return err
	}
	res := queryResult{server: server, reply: reply, outcome: outcome, elapsed: time.Since(start)}
	if n := outcome.NearMisses; n > 0 {
		fmt.Fprintf(stderr, "rensa: warning: ignored %d message(s) that did not match the query (wrong ID or question): possible spoofing\n", n)
	}
	if opts.json {
		return writeQueryJSON(stdout, res)
	}
	_, err = io.WriteString(stdout, formatQueryText(res))
	return err
}

// exchangeQuery sends the query over the transport server's scheme names.
func exchangeQuery(ctx context.Context, opts queryOptions, server serverSpec) (*dns.Msg, transport.Outcome, error) {
	q := buildQuery(opts)
	var ex transport.Exchanger
	switch server.scheme {
	case "":
		d := &transport.Do53{Addr: server.address(), Timeout: opts.timeout, ForceTCP: opts.tcp}
		return d.ExchangeOutcome(ctx, q)
	case "tls":
		d := &transport.DoT{Addr: server.address(), CAFile: opts.ca, SPKIPin: opts.pin, Timeout: opts.timeout}
		defer d.Close()
		ex = d
	case "https":
		ex = &transport.DoH{URL: "https://" + server.address() + server.path, CAFile: opts.ca, SPKIPin: opts.pin, Timeout: opts.timeout}
	case "quic":
		d := &transport.DoQ{Addr: server.address(), CAFile: opts.ca, SPKIPin: opts.pin, Timeout: opts.timeout}
		defer d.Close()
		ex = d
	}
	out := transport.Outcome{Network: server.scheme}
	r, err := ex.Exchange(ctx, q)
	if err != nil {
		return nil, out, err
	}
	out.Size = r.Len()
	return r, out, nil
}

// formatQueryText renders a result the way dig does.
func formatQueryText(res queryResult) string {
	var b strings.Builder
	r := res.reply
	if res.outcome.Truncated {
		b.WriteString(";; Truncated, retried over TCP.\n")
	}
	fmt.Fprintf(&b, ";; ->>HEADER<<- opcode: %s, status: %s, id: %d\n", opcodeString(r.Opcode), rcodeString(r.Rcode), r.Id)
	fmt.Fprintf(&b, ";; flags:%s; QUERY: %d, ANSWER: %d, AUTHORITY: %d, ADDITIONAL: %d\n",
		headerFlags(r), len(r.Question), len(r.Answer), len(r.Ns), len(r.Extra))
	b.WriteString("\n")
	if opt := r.IsEdns0(); opt != nil {
		b.WriteString(";; OPT PSEUDOSECTION:\n")
		b.WriteString(formatOPT(opt))
	}
	if len(r.Question) > 0 {
		b.WriteString(";; QUESTION SECTION:\n")
		for _, q := range r.Question {
			fmt.Fprintf(&b, ";%s\t\t%s\t%s\n", q.Name, dns.Class(q.Qclass), dns.Type(q.Qtype))
		}
	}
	writeSection(&b, "ANSWER", r.Answer)
	writeSection(&b, "AUTHORITY", r.Ns)
	writeSection(&b, "ADDITIONAL", r.Extra)
	fmt.Fprintf(&b, "\n;; Query time: %d msec\n", res.elapsed.Milliseconds())
	fmt.Fprintf(&b, ";; SERVER: %s#%s(%s) (%s)\n", res.server.host, res.server.port, res.server.host, strings.ToUpper(res.outcome.Network))
	fmt.Fprintf(&b, ";; MSG SIZE  rcvd: %d\n", res.outcome.Size)
	return b.String()
}

// writeSection writes one message section, skipping the OPT record.
func writeSection(b *strings.Builder, title string, rrs []dns.RR) {
	var lines []string
	for _, rr := range rrs {
		if rr != nil && rr.Header().Rrtype != dns.TypeOPT {
			lines = append(lines, rr.String())
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "\n;; %s SECTION:\n%s\n", title, strings.Join(lines, "\n"))
}

// formatOPT renders the OPT pseudo-section lines after its title.
func formatOPT(opt *dns.OPT) string {
	var b strings.Builder
	flags := ""
	if opt.Do() {
		flags += " do"
	}
	if opt.Co() {
		flags += " co"
	}
	mbz := ""
	if z := opt.Z(); z != 0 {
		mbz = fmt.Sprintf("MBZ: %#04x, ", z)
	}
	fmt.Fprintf(&b, "; EDNS: version: %d, flags:%s; %sudp: %d\n", opt.Version(), flags, mbz, opt.UDPSize())
	for _, o := range opt.Option {
		name, data := ednsOption(o)
		fmt.Fprintf(&b, "; %s: %s\n", name, data)
	}
	return b.String()
}

// ednsOption returns dig's name for an EDNS option and its data as text.
func ednsOption(o dns.EDNS0) (name, data string) {
	switch o := o.(type) {
	case *dns.EDNS0_NSID:
		raw, err := hex.DecodeString(o.Nsid)
		if err != nil {
			return "NSID", o.Nsid
		}
		return "NSID", hexAndText(raw)
	case *dns.EDNS0_PADDING:
		return "PADDING", fmt.Sprintf("%d bytes", len(o.Padding))
	case *dns.EDNS0_LOCAL:
		return ednsOptionName(o.Code), hexAndText(o.Data)
	}
	return ednsOptionName(o.Option()), strings.TrimSpace(o.String())
}

// ednsOptionName returns dig's name for an EDNS option code.
func ednsOptionName(code uint16) string {
	switch code {
	case dns.EDNS0LLQ:
		return "LLQ"
	case dns.EDNS0UL:
		return "UL"
	case dns.EDNS0NSID:
		return "NSID"
	case dns.EDNS0ESU:
		return "ESU"
	case dns.EDNS0DAU:
		return "DAU"
	case dns.EDNS0DHU:
		return "DHU"
	case dns.EDNS0N3U:
		return "N3U"
	case dns.EDNS0SUBNET:
		return "CLIENT-SUBNET"
	case dns.EDNS0EXPIRE:
		return "EXPIRE"
	case dns.EDNS0COOKIE:
		return "COOKIE"
	case dns.EDNS0TCPKEEPALIVE:
		return "TCP-KEEPALIVE"
	case dns.EDNS0PADDING:
		return "PADDING"
	case dns.EDNS0EDE:
		return "EDE"
	case dns.EDNS0REPORTING:
		return "REPORT-CHANNEL"
	case dns.EDNS0ZONEVERSION:
		return "ZONEVERSION"
	}
	return fmt.Sprintf("OPT=%d", code)
}

// hexAndText renders bytes as dig does: hex pairs, then the printable
// characters in quotes.
func hexAndText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	pairs := make([]string, len(b))
	text := make([]byte, len(b))
	for i, c := range b {
		pairs[i] = fmt.Sprintf("%02x", c)
		text[i] = '.'
		if c >= 0x20 && c < 0x7f {
			text[i] = c
		}
	}
	return fmt.Sprintf("%s (%q)", strings.Join(pairs, " "), text)
}

// headerFlags lists the set header flags in dig's order, each after a space.
func headerFlags(r *dns.Msg) string {
	var s string
	for _, f := range []struct {
		set  bool
		name string
	}{
		{r.Response, "qr"}, {r.Authoritative, "aa"}, {r.Truncated, "tc"}, {r.RecursionDesired, "rd"},
		{r.RecursionAvailable, "ra"}, {r.Zero, "z"}, {r.AuthenticatedData, "ad"}, {r.CheckingDisabled, "cd"},
	} {
		if f.set {
			s += " " + f.name
		}
	}
	return s
}

func rcodeString(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

func opcodeString(op int) string {
	if s, ok := dns.OpcodeToString[op]; ok {
		return s
	}
	return fmt.Sprintf("OPCODE%d", op)
}

// queryJSON is the --json output. Field order and names are stable: add
// fields, never rename or remove them.
type queryJSON struct {
	Server     string         `json:"server"`
	Protocol   string         `json:"protocol"`
	ID         uint16         `json:"id"`
	Opcode     string         `json:"opcode"`
	Rcode      string         `json:"rcode"`
	Flags      queryJSONFlags `json:"flags"`
	Question   []queryJSONQ   `json:"question"`
	Answer     []queryJSONRR  `json:"answer"`
	Authority  []queryJSONRR  `json:"authority"`
	Additional []queryJSONRR  `json:"additional"`
	EDNS       *queryJSONEDNS `json:"edns"`
	MsgSize    int            `json:"msg_size"`
	NearMisses int            `json:"near_misses"`
	TimeMS     float64        `json:"time_ms"`
}

type queryJSONFlags struct {
	AA bool `json:"aa"`
	TC bool `json:"tc"`
	RD bool `json:"rd"`
	RA bool `json:"ra"`
	AD bool `json:"ad"`
	CD bool `json:"cd"`
}

type queryJSONQ struct {
	Name  string `json:"name"`
	Class string `json:"class"`
	Type  string `json:"type"`
}

type queryJSONRR struct {
	Name  string `json:"name"`
	TTL   uint32 `json:"ttl"`
	Class string `json:"class"`
	Type  string `json:"type"`
	Data  string `json:"data"`
}

type queryJSONEDNS struct {
	Version uint8             `json:"version"`
	UDP     uint16            `json:"udp"`
	DO      bool              `json:"do"`
	Options []queryJSONOption `json:"options"`
}

type queryJSONOption struct {
	Code uint16 `json:"code"`
	Name string `json:"name"`
	Data string `json:"data"`
}

// writeQueryJSON writes a result as one indented JSON object.
func writeQueryJSON(w io.Writer, res queryResult) error {
	r := res.reply
	out := queryJSON{
		Server:   res.server.address(),
		Protocol: res.outcome.Network,
		ID:       r.Id,
		Opcode:   opcodeString(r.Opcode),
		Rcode:    rcodeString(r.Rcode),
		Flags: queryJSONFlags{
			AA: r.Authoritative, TC: r.Truncated, RD: r.RecursionDesired,
			RA: r.RecursionAvailable, AD: r.AuthenticatedData, CD: r.CheckingDisabled,
		},
		Question:   []queryJSONQ{},
		Answer:     jsonRRs(r.Answer),
		Authority:  jsonRRs(r.Ns),
		Additional: jsonRRs(r.Extra),
		MsgSize:    res.outcome.Size,
		NearMisses: res.outcome.NearMisses,
		TimeMS:     math.Round(float64(res.elapsed.Microseconds())) / 1000,
	}
	for _, q := range r.Question {
		out.Question = append(out.Question, queryJSONQ{Name: q.Name, Class: dns.Class(q.Qclass).String(), Type: dns.Type(q.Qtype).String()})
	}
	if opt := r.IsEdns0(); opt != nil {
		e := &queryJSONEDNS{Version: opt.Version(), UDP: opt.UDPSize(), DO: opt.Do(), Options: []queryJSONOption{}}
		for _, o := range opt.Option {
			name, data := ednsOption(o)
			e.Options = append(e.Options, queryJSONOption{Code: o.Option(), Name: name, Data: data})
		}
		out.EDNS = e
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// jsonRRs converts a section to JSON records, leaving out the OPT record
// (reported under "edns"). It never returns nil, so empty sections print
// as [].
func jsonRRs(rrs []dns.RR) []queryJSONRR {
	out := []queryJSONRR{}
	for _, rr := range rrs {
		if rr == nil || rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		h := rr.Header()
		out = append(out, queryJSONRR{
			Name:  h.Name,
			TTL:   h.Ttl,
			Class: dns.Class(h.Class).String(),
			Type:  dns.Type(h.Rrtype).String(),
			Data:  strings.TrimPrefix(rr.String(), h.String()),
		})
	}
	return out
}
