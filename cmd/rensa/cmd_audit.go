package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/audit/caa"
	"github.com/rensa-dns/rensa/internal/audit/takeover"
	"github.com/rensa-dns/rensa/internal/transport"
	"github.com/rensa-dns/rensa/internal/zone"
)

const auditUsage = `usage: rensa audit caa NAME --ca ISSUER-DOMAIN [flags]
       rensa audit caa --zone FILE [flags]
       rensa audit takeover (--zone FILE ... | NAME ... | --names FILE) [flags]
       rensa audit amp TARGET [--port N] [--name NAME] [--json]   (see "rensa audit amp -h")

Audit a domain's DNS the way a CA or an attacker would look at it.

  caa       Run a CA's CAA check (RFC 8659, RFC 8657): may ISSUER-DOMAIN
            issue a certificate for NAME? Prints the verdict, the name whose
            CAA RRset decided, why, and the iodef contact. Exit status: 0
            allowed, 1 not allowed, 2 DNS failure (SERVFAIL, timeout: a CA
            must not issue) or usage error.
            With --zone FILE: lint the zone's CAA records instead (syntax,
            unknown critical tags, issuewild without issue, contradictions);
            exit status 1 when there are errors.
  takeover  Find dangling CNAME, NS, MX and SRV records: targets that do not
            exist, domains nobody registered, lame zones, and (--http)
            services whose page says nothing is there. Exit status 1 when a
            finding reaches --fail-on, 2 when the resolver does not answer.

Both ask a recursive resolver: --resolver ADDR[:PORT], default the first
nameserver in /etc/resolv.conf.

examples:
  rensa audit caa www.example.test --ca letsencrypt.org --resolver 127.0.0.1:5353
  rensa audit caa example.test --wildcard --ca letsencrypt.org --method dns-01 \
      --account-uri https://acme-v02.api.letsencrypt.org/acme/acct/1 --json
  rensa audit caa --zone example.test.zone
  rensa audit takeover --zone example.test.zone --fail-on high
  rensa audit takeover sub.example.test www.example.test --http --sarif > takeover.sarif
  rensa audit takeover --names names.txt --json --fingerprints fingerprints.json

` + takeover.Attribution + `

flags:
`

var _ = register(command{
	name:    "audit",
	summary: "audit CAA (may this CA issue?), dangling records (subdomain takeover) and amplification",
	usage:   auditUsage,
	run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var opts auditOptions
		fs := newFlagSet("audit", auditUsage, stderr)
		opts.addFlags(fs)
		if len(args) == 0 {
			fs.Usage()
			return errUsage("audit needs a check: caa, takeover or amp")
		}
		if args[0] == "amp" { // its own flags: cmd_audit_amp.go
			return auditAmpMain(ctx, args[1:], stdout, stderr)
		}
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fs.Usage()
			return flag.ErrHelp
		}
		opts.check = args[0]
		if opts.check != "caa" && opts.check != "takeover" {
			return errUsage("unknown audit %q: want caa, takeover or amp", args[0])
		}
		pos, err := parseFlags(fs, args[1:])
		if err != nil {
			return err
		}
		opts.names = pos
		return runAudit(ctx, opts, stdout, stderr)
	},
})

// auditOptions holds the flags and arguments of "rensa audit".
type auditOptions struct {
	check    string        // "caa" or "takeover"
	names    []string      // positional NAMEs
	resolver string        // --resolver ADDR[:PORT]; "" for resolv.conf
	timeout  time.Duration // per lookup
	json     bool
	zones    stringList // --zone FILE, repeatable

	// caa
	ca         string
	wildcard   bool
	accountURI string
	method     string

	// takeover
	sarif        bool
	http         bool
	namesFile    string
	fingerprints string
	failOn       string

	// httpDial replaces the page fetches' dialer (tests: a loopback web
	// server); nil uses a net.Dialer.
	httpDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func (o *auditOptions) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.resolver, "resolver", "", "recursive resolver to ask, ADDR[:PORT] (default: first nameserver in /etc/resolv.conf)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "timeout of each DNS lookup")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON on stdout")
	fs.Var(&o.zones, "zone", "zone `FILE` to audit (repeatable for takeover)")
	fs.StringVar(&o.ca, "ca", "", "caa: the CA's issuer domain name, e.g. letsencrypt.org")
	fs.BoolVar(&o.wildcard, "wildcard", false, "caa: ask for a wildcard certificate (*.NAME)")
	fs.StringVar(&o.accountURI, "account-uri", "", "caa: the ACME account URI asking (RFC 8657 accounturi)")
	fs.StringVar(&o.method, "method", "", "caa: the ACME validation method, e.g. http-01 or dns-01 (RFC 8657 validationmethods)")
	fs.BoolVar(&o.sarif, "sarif", false, "takeover: print a SARIF 2.1.0 log on stdout")
	fs.BoolVar(&o.http, "http", false, "takeover: fetch pages of known services and match their fingerprint text")
	fs.StringVar(&o.namesFile, "names", "", "takeover: read names to check from `FILE`, one a line (# comments)")
	fs.StringVar(&o.fingerprints, "fingerprints", "", "takeover: use this can-i-take-over-xyz fingerprints.json `FILE` instead of the built-in one")
	fs.StringVar(&o.failOn, "fail-on", "medium", "takeover: exit 1 when a finding is at least this severe (info, low, medium, high, critical)")
}

// dnsFailure returns err as a DNS failure: the resolver did not answer, or
// an answer that must be had failed. It exits with status 2, like a usage
// error but without a usage hint, so scripts tell "not allowed" (1) from
// "could not check" (2).
func dnsFailure(err error) error {
	return withStatus(2, err)
}

// runAudit checks the options and runs the audit they name.
func runAudit(ctx context.Context, opts auditOptions, stdout, stderr io.Writer) error {
	if opts.timeout <= 0 {
		return errUsage("--timeout must be positive")
	}
	if opts.check == "caa" {
		return runAuditCAA(ctx, opts, stdout, stderr)
	}
	return runAuditTakeover(ctx, opts, stdout, stderr)
}

// resolverExchanger returns the resolver to ask: --resolver, else the
// system's.
func (o auditOptions) resolverExchanger() (*transport.Do53, error) {
	spec := systemServer(resolvConfPath)
	if o.resolver != "" {
		host, port, err := splitServerHostPort(o.resolver, "53")
		if err != nil {
			return nil, errUsage("bad --resolver %s: %v", o.resolver, err)
		}
		spec = serverSpec{host: host, port: port}
	}
	return &transport.Do53{Addr: spec.address(), Timeout: o.timeout}, nil
}

// ---- caa ----

// runAuditCAA runs the CAA check of one name, or lints a zone's CAA
// records with --zone.
func runAuditCAA(ctx context.Context, opts auditOptions, stdout, stderr io.Writer) error {
	switch {
	case opts.sarif || opts.http || opts.namesFile != "" || opts.fingerprints != "":
		return errUsage("--sarif, --http, --names and --fingerprints are takeover flags")
	case len(opts.zones) > 0:
		if len(opts.zones) > 1 || len(opts.names) > 0 || opts.ca != "" {
			return errUsage("audit caa --zone takes one FILE and no NAME or --ca")
		}
		return runAuditCAALint(opts, stdout)
	case len(opts.names) != 1:
		return errUsage("audit caa takes one NAME (or --zone FILE), got %d arguments", len(opts.names))
	case opts.ca == "":
		return errUsage("audit caa needs --ca ISSUER-DOMAIN, the CA asking")
	}
	name := opts.names[0]
	if opts.wildcard && !strings.HasPrefix(name, "*.") {
		name = "*." + name
	}
	ex, err := opts.resolverExchanger()
	if err != nil {
		return err
	}
	c, err := caa.New(caa.Config{Resolver: ex, Timeout: opts.timeout})
	if err != nil {
		return err
	}
	res, err := c.Check(ctx, caa.Request{Name: name, Issuer: opts.ca, AccountURI: opts.accountURI, Method: opts.method})
	if err != nil && !errors.Is(err, caa.ErrLookup) {
		return errUsage("%v", err)
	}
	if werr := writeCAAResult(stdout, res, opts.json); werr != nil {
		return werr
	}
	switch {
	case err != nil:
		return dnsFailure(err)
	case res.Status != caa.Allowed:
		return errFindings
	}
	return nil
}

// writeCAAResult prints a check's result as text or JSON.
func writeCAAResult(w io.Writer, res caa.Result, asJSON bool) error {
	if asJSON {
		return writeAuditJSON(w, res)
	}
	var b strings.Builder
	switch res.Status {
	case caa.Allowed:
		fmt.Fprintf(&b, "allowed: %s may issue for %s\n", res.Issuer, res.Name)
	case caa.NotAllowed:
		fmt.Fprintf(&b, "not allowed: %s may not issue for %s\n", res.Issuer, res.Name)
	default:
		fmt.Fprintf(&b, "dns failure: the CAA check for %s could not complete; a CA must not issue\n", res.Name)
	}
	if res.RelevantName != "" {
		fmt.Fprintf(&b, "relevant RRset: %s\n", res.RelevantName)
		for _, p := range res.RRset {
			fmt.Fprintf(&b, "  %s CAA %s\n", res.RelevantName, p)
		}
	} else if res.Status != caa.DNSFailure {
		b.WriteString("relevant RRset: none\n")
	}
	fmt.Fprintf(&b, "reason: %s\n", res.Decision.Reason)
	for _, u := range res.Decision.Iodef {
		fmt.Fprintf(&b, "iodef: %s\n", u)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// caaLintReport is the --json output of audit caa --zone.
type caaLintReport struct {
	File     string        `json:"file"`
	Zone     string        `json:"zone"`
	Records  int           `json:"caa_records"`
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
	Findings []caa.Finding `json:"findings"`
}

// runAuditCAALint lints the CAA records of one zone file.
func runAuditCAALint(opts auditOptions, stdout io.Writer) error {
	z, err := zone.Load(opts.zones[0], "", zone.LoadOptions{})
	if errors.Is(err, zone.ErrNoOrigin) {
		return errUsage("%s: the file names no origin (no SOA with an absolute owner, no $ORIGIN)", opts.zones[0])
	}
	if err != nil {
		return err
	}
	rep := caaLintReport{File: opts.zones[0], Zone: z.Origin, Findings: append([]caa.Finding{}, caa.Lint(z.Records)...)}
	for _, r := range z.Records {
		if r.RR.Header().Rrtype == dns.TypeCAA {
			rep.Records++
		}
	}
	for _, f := range rep.Findings {
		if f.Severity == caa.Error {
			rep.Errors++
		} else {
			rep.Warnings++
		}
	}
	if opts.json {
		err = writeAuditJSON(stdout, rep)
	} else {
		var b strings.Builder
		for _, f := range rep.Findings {
			fmt.Fprintln(&b, f)
		}
		fmt.Fprintf(&b, "zone %s: %d CAA records, %d errors, %d warnings\n", rep.Zone, rep.Records, rep.Errors, rep.Warnings)
		_, err = io.WriteString(stdout, b.String())
	}
	switch {
	case err != nil:
		return err
	case rep.Errors > 0:
		return errFindings
	}
	return nil
}

// ---- takeover ----

// runAuditTakeover scans zone files and names for dangling records.
func runAuditTakeover(ctx context.Context, opts auditOptions, stdout, stderr io.Writer) error {
	switch {
	case opts.ca != "" || opts.wildcard || opts.accountURI != "" || opts.method != "":
		return errUsage("--ca, --wildcard, --account-uri and --method are caa flags")
	case opts.json && opts.sarif:
		return errUsage("--json and --sarif exclude each other")
	case len(opts.zones) == 0 && len(opts.names) == 0 && opts.namesFile == "":
		return errUsage("audit takeover needs --zone FILE, NAME arguments or --names FILE")
	}
	failOn, err := takeover.ParseSeverity(opts.failOn)
	if err != nil {
		return errUsage("--fail-on: %v", err)
	}
	cfg := takeover.Config{HTTP: opts.http, HTTPDial: opts.httpDial, Timeout: opts.timeout}
	if opts.fingerprints != "" {
		b, err := os.ReadFile(opts.fingerprints)
		if err != nil {
			return err
		}
		if cfg.Fingerprints, err = takeover.ParseFingerprints(b); err != nil {
			return fmt.Errorf("%s: %w", opts.fingerprints, err)
		}
	}
	var recs []takeover.Record
	for _, file := range opts.zones {
		z, err := zone.Load(file, "", zone.LoadOptions{})
		if errors.Is(err, zone.ErrNoOrigin) {
			return errUsage("%s: the file names no origin (no SOA with an absolute owner, no $ORIGIN)", file)
		}
		if err != nil {
			return err
		}
		recs = append(recs, takeover.FromZone(z)...)
	}
	names := opts.names
	if opts.namesFile != "" {
		more, err := readNames(opts.namesFile)
		if err != nil {
			return err
		}
		names = append(names, more...)
	}
	if cfg.Resolver, err = opts.resolverExchanger(); err != nil {
		return err
	}
	if isTerminal(stderr) {
		cfg.Progress = progressBar(stderr)
	}
	s, err := takeover.New(cfg)
	if err != nil {
		return err
	}
	var discoverErrs []takeover.ScanError
	if len(names) > 0 {
		more, errs, err := s.Discover(ctx, names)
		if errors.Is(err, takeover.ErrResolver) {
			return dnsFailure(err)
		}
		if err != nil {
			return errUsage("%v", err)
		}
		recs, discoverErrs = append(recs, more...), errs
	}
	rep, err := s.Scan(ctx, recs)
	if errors.Is(err, takeover.ErrResolver) {
		return dnsFailure(err)
	}
	if err != nil {
		return err
	}
	rep.Errors = append(discoverErrs, rep.Errors...)
	if err := writeTakeoverReport(stdout, rep, opts); err != nil {
		return err
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(stderr, "rensa: warning: %s: %s\n", e.Record, e.Error)
	}
	if max, ok := rep.Max(); ok && max >= failOn {
		return errFindings
	}
	return nil
}

// readNames reads one name a line; blank lines and # comments are
// skipped.
func readNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	return names, sc.Err()
}

// writeTakeoverReport prints the report as text, JSON or SARIF.
func writeTakeoverReport(w io.Writer, rep takeover.Report, opts auditOptions) error {
	switch {
	case opts.sarif:
		return takeover.WriteSARIF(w, rep, "")
	case opts.json:
		return writeAuditJSON(w, rep)
	}
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintln(&b, f)
	}
	fmt.Fprintf(&b, "%d records checked, %d dangling", rep.Scanned, len(rep.Findings))
	if max, ok := rep.Max(); ok {
		fmt.Fprintf(&b, " (most severe: %s)", max)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeAuditJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether w is a terminal (a character device), where
// a progress bar helps; it never is in tests or pipes.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar returns a takeover progress callback drawing one line on
// w, redrawn in place, and ending it when the scan is done.
func progressBar(w io.Writer) func(done, total int) {
	const width = 30
	return func(done, total int) {
		if total == 0 {
			return
		}
		n := done * width / total
		fmt.Fprintf(w, "\rrensa: checking [%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}
