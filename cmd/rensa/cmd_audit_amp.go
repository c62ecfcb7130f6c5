package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/rensa-dns/rensa/internal/audit/amp"
)

const auditAmpUsage = `usage: rensa audit amp TARGET [--port N] [--name NAME] [--source ADDR] [--json]
                      [--i-own-this-target]

Measure how much the DNS server at TARGET (an IP address) amplifies: the
octets it sends back for each octet it is sent. A forged query costs an
attacker its size; the answer lands on the victim whose address was
forged. A factor of 30 turns 1 Gbit/s of forged queries into 30 Gbit/s.

It sends, once each and with RD=1 and EDNS DO, ANY, DNSKEY, TXT and NS
for the root and for --name; a random name under --name to see whether the
server resolves for this client; one query with a DNS cookie (RFC 7873);
and a burst of 30 identical copies of the question with the largest
factor, to see response rate limiting (RRL: drops and TC=1 slips). At most
40 datagrams in all. It prints each query's octets sent and received and
the factor, then a verdict:

  open-resolver              it resolves for an outside client (--source)
  amplifier                  a factor above 10 and no rate limiting seen
  recursion-for-this-client  it resolves for this loopback or private
                             client; its ACL decides who else
  ok                         small factors, or rate limited

Exit status: 0 ok or recursion-for-this-client, 1 open-resolver or
amplifier, 2 usage error or no reply at all.

Recursion offered to a loopback or private client is what a resolver
should do for its own network; from there an open resolver looks the same
as a well-configured one. --source ADDR sends from another local address,
which stands for a client the server should not know: on one machine any
127.0.0.0/8 address works (127.66.0.1 is the testbed's attacker range). A
resolver whose ACL allows only 127.0.0.1 refuses it; one that allows
0.0.0.0/0 answers it, and is an open resolver.

Targets outside loopback and the private ranges are refused unless
--i-own-this-target says the server is yours: even a small probe is
traffic aimed at someone's server.

examples:
  rensa audit amp 127.0.0.1 --port 5353 --name example.test
  rensa audit amp 127.0.0.1 --port 5300 --source 127.66.0.1
  rensa audit amp 192.168.1.1 --json
  rensa audit amp 198.51.100.53 --name example.com --i-own-this-target

flags:
`

// auditAmpOptions holds the flags and argument of "rensa audit amp".
type auditAmpOptions struct {
	target  string // positional TARGET, an IP address
	port    int
	name    string
	source  string
	own     bool
	json    bool
	timeout time.Duration

	// rand replaces crypto/rand (tests: a fixed stream for golden
	// output); nil uses the default.
	rand io.Reader
}

func (o *auditAmpOptions) addFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.port, "port", 53, "the server's `PORT`")
	fs.StringVar(&o.name, "name", "", "also probe this zone `NAME` (one the server serves), and make the random name under it")
	fs.StringVar(&o.source, "source", "", "send from local `ADDR`, standing for a client outside the server's trusted ranges")
	fs.BoolVar(&o.own, "i-own-this-target", false, "allow a TARGET outside loopback and the private ranges: it is yours")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON on stdout")
	fs.DurationVar(&o.timeout, "timeout", amp.DefaultTimeout, "how long each query waits for its reply")
}

// auditAmpMain parses the arguments after "rensa audit amp" and runs it.
func auditAmpMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts auditAmpOptions
	fs := newFlagSet("audit amp", auditAmpUsage, stderr)
	opts.addFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errUsage("audit amp takes one TARGET address, got %d arguments", len(pos))
	}
	opts.target = pos[0]
	return runAuditAmp(ctx, opts, stdout, stderr)
}

// config turns the options into an amp.Config; its errors are usage
// errors.
func (o auditAmpOptions) config() (amp.Config, error) {
	cfg := amp.Config{Name: o.name, OwnTarget: o.own, Timeout: o.timeout, Rand: o.rand}
	a, err := netip.ParseAddr(strings.Trim(o.target, "[]"))
	if err != nil {
		return cfg, errUsage("TARGET %q is not an IP address (give the port with --port)", o.target)
	}
	if o.port < 1 || o.port > 65535 {
		return cfg, errUsage("--port %d is outside 1..65535", o.port)
	}
	cfg.Target = netip.AddrPortFrom(a.Unmap(), uint16(o.port))
	if o.source != "" {
		if cfg.Source, err = netip.ParseAddr(o.source); err != nil {
			return cfg, errUsage("--source %q is not an IP address", o.source)
		}
		cfg.Source = cfg.Source.Unmap()
	}
	return cfg, nil
}

// runAuditAmp audits one server and prints the report.
func runAuditAmp(ctx context.Context, opts auditAmpOptions, stdout, stderr io.Writer) error {
	cfg, err := opts.config()
	if err != nil {
		return err
	}
	a, err := amp.New(cfg)
	if errors.Is(err, amp.ErrOutsideScope) {
		return errUsage("%s is outside loopback and the private ranges; audit only servers you run, and say so with --i-own-this-target", cfg.Target.Addr())
	}
	if err != nil {
		return errUsage("%v", err)
	}
	rep, err := a.Run(ctx)
	if errors.Is(err, amp.ErrNoReply) {
		return dnsFailure(fmt.Errorf("no reply from %s to any query: is a DNS server listening there?", cfg.Target))
	}
	if err != nil {
		return err
	}
	if opts.json {
		err = writeAuditJSON(stdout, rep)
	} else {
		err = writeAmpText(stdout, rep)
	}
	switch {
	case err != nil:
		return err
	case rep.Verdict.Bad:
		return errFindings
	}
	return nil
}

// writeAmpText prints the report for people.
func writeAmpText(w io.Writer, rep amp.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "target %s, from %s", rep.Target, rep.Source)
	if rep.SourceOutside {
		b.WriteString(" (standing for an outside client)")
	}
	b.WriteString("\n")
	for _, p := range rep.Probes {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	fmt.Fprintf(&b, "recursion: %s\n", rep.Recursion.Note)
	fmt.Fprintf(&b, "rrl: %s (%s: %d answered, %d slipped, %d dropped)\n", rep.RRL.Note, rep.RRL.Query, rep.RRL.Answered, rep.RRL.Slipped, rep.RRL.Dropped)
	fmt.Fprintf(&b, "cookies: %s\n", rep.Cookies.Note)
	fmt.Fprintf(&b, "verdict: %s\n", rep.Verdict.Summary)
	_, err := io.WriteString(w, b.String())
	return err
}
