package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/zone"
)

var _ = register(command{
	name:    "verify",
	summary: "check a signed zone's DNSSEC, like dnssec-verify",
	usage:   verifyUsage,
	run:     verifyMain,
})

const verifyUsage = `usage: rensa verify FILE [ORIGIN] [--time T]

Check the DNSSEC of a signed zone as dnssec-verify does: the DNSKEY RRset is
signed by a KSK of each algorithm; every authoritative RRset is signed by
each algorithm with signatures that verify and are valid at T (default now);
delegation NS RRsets and glue are not signed; the NSEC or NSEC3 chain covers
every name with the right types and is closed.

Each problem is printed on its own line; the exit status is 1 when there is
any, 0 when the zone is correctly signed.

T is RFC 3339 (2026-03-01T12:00:00Z) or YYYYMMDDHHMMSS in UTC.

Examples:
  rensa verify example.test.signed
  rensa verify db.example example.test. --time 20260301120000

Flags:
`

// verifyOptions is everything rensa verify was told.
type verifyOptions struct {
	file   string
	origin string
	at     string

	now func() time.Time
}

// addFlags registers the flags of rensa verify on fs.
func (o *verifyOptions) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.at, "time", o.at, "check validity at `T` instead of now")
}

// verifyMain is the command-table entry.
func verifyMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts := verifyOptions{now: time.Now}
	fs := newFlagSet("verify", verifyUsage, stderr)
	opts.addFlags(fs)
	positional, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch len(positional) {
	case 0:
		return errUsage("missing FILE")
	case 1:
	case 2:
		opts.origin = positional[1]
	default:
		return errUsage("unexpected argument %q", positional[2])
	}
	opts.file = positional[0]
	return runVerify(ctx, opts, stdout, stderr)
}

// parseTime reads a time as RFC 3339 or as YYYYMMDDHHMMSS (UTC), the
// form of RRSIG times.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("20060102150405", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("bad time %q (write 2026-03-01T12:00:00Z or 20260301120000)", s)
}

// runVerify loads and checks the zone and prints the report.
func runVerify(_ context.Context, o verifyOptions, stdout, _ io.Writer) error {
	now := o.now()
	if o.at != "" {
		t, err := parseTime(o.at)
		if err != nil {
			return errUsage("--time: %v", err)
		}
		now = t
	}
	if o.origin != "" {
		if _, ok := dns.IsDomainName(dns.Fqdn(o.origin)); !ok {
			return errUsage("invalid ORIGIN %q", o.origin)
		}
	}
	z, err := zone.Load(o.file, o.origin, zone.LoadOptions{})
	if err != nil {
		return err
	}
	problems := dnssec.Verify(z, now)
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	b.WriteString(verifySummary(z, problems, now))
	if _, err := io.WriteString(stdout, b.String()); err != nil {
		return err
	}
	if len(problems) > 0 {
		return errFindings
	}
	return nil
}

// verifySummary says what was checked and the verdict.
func verifySummary(z *zone.Zone, problems []dnssec.Problem, now time.Time) string {
	sigs, algs := 0, map[string]bool{}
	chain := "NSEC"
	for _, name := range z.Names() {
		n := z.Node(name)
		for _, rrs := range n.Sigs {
			sigs += len(rrs)
		}
		if n.Has(dns.TypeNSEC3) {
			chain = "NSEC3"
		}
	}
	for _, rr := range z.Apex().RRsets[dns.TypeDNSKEY] {
		algs[dns.AlgorithmToString[rr.(*dns.DNSKEY).Algorithm]] = true
	}
	var names []string
	for a := range algs {
		names = append(names, a)
	}
	sort.Strings(names)
	what := fmt.Sprintf("%d names, %d RRSIGs, %s, algorithms %s, at %s",
		len(z.Names()), sigs, chain, strings.Join(names, " "), now.UTC().Format(time.RFC3339))
	if len(problems) > 0 {
		return fmt.Sprintf("zone %s: %d problems (%s)\n", z.Origin, len(problems), what)
	}
	return fmt.Sprintf("zone %s: correctly signed (%s)\n", z.Origin, what)
}
