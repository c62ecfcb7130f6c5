package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"text/tabwriter"

	"github.com/rensa-dns/rensa/internal/testbed"
)

var _ = register(command{
	name:    "testbed",
	summary: "run a DNS hierarchy (root, TLDs, zones) on loopback",
	usage:   testbedUsage,
	run:     testbedMain,
})

const testbedUsage = `usage: rensa testbed [--port N] [--write-hints FILE] [--signed [--write-anchor FILE]]

Run the testbed until interrupted: a root server, the TLDs test. and
example., and leaf zones below them, each served by its own rensa
authoritative server on 127.53.0.0/16. It prints the servers and how to
query them.

As root every server listens on port 53 of its own address, so the
hierarchy looks real: glue and root hints work unchanged for dig, kdig,
delv and Unbound. Otherwise (or with --port) all servers share one other
port, and --port 0 gives each server a free port of its own.

With --signed every zone is signed at start (a KSK and a ZSK per zone,
ECDSAP256SHA256, NSEC or NSEC3 as the zone is set up; signatures valid for
14 days), each parent carries its child's DS, and --write-anchor writes the
root's trust anchor (its KSK's DS and DNSKEY records, the form Unbound's
trust-anchor-file reads) beside the root hints: a validating resolver
given both validates every answer of the testbed.

Examples:
  rensa testbed
  rensa testbed --port 5300 --write-hints /tmp/testbed.hints
  rensa testbed --signed --write-hints /tmp/testbed.hints --write-anchor /tmp/testbed.anchor
  rensa query @127.53.2.1 www.example.test A +norec +dnssec
  rensa query @127.53.0.1 www.example.test A +norec

Flags:
`

// testbedOptions is what "rensa testbed" was told.
type testbedOptions struct {
	port        int // testbed.PortAuto, testbed.PortFree or a port
	writeHints  string
	signed      bool
	writeAnchor string
}

func (o *testbedOptions) addFlags(fs *flag.FlagSet) {
	fs.Func("port", "serve on port `N` (default 53 as root, else free ports; 0: free ports)", func(s string) error {
		p, err := parsePort(s)
		o.port = p
		return err
	})
	fs.StringVar(&o.writeHints, "write-hints", "", "write root hints for resolvers to `FILE`")
	fs.BoolVar(&o.signed, "signed", false, "sign every zone (DNSSEC) and put each child's DS in its parent")
	fs.StringVar(&o.writeAnchor, "write-anchor", "", "with --signed: write the root trust anchor (DS and DNSKEY) to `FILE`")
}

// parsePort reads a --port value: 0 asks for free ports (testbed.PortFree).
func parsePort(s string) (int, error) {
	var p int
	if _, err := fmt.Sscan(s, &p); err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 0 to 65535", s)
	}
	if p == 0 {
		return testbed.PortFree, nil
	}
	return p, nil
}

func testbedMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts testbedOptions
	fs := newFlagSet("testbed", testbedUsage, stderr)
	opts.addFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errUsage("unexpected argument %q", rest[0])
	}
	if opts.writeAnchor != "" && !opts.signed {
		return errUsage("--write-anchor needs --signed: an unsigned testbed has no trust anchor")
	}
	return runTestbed(ctx, opts, stdout, stderr)
}

// runTestbed starts the default testbed, describes it and waits for ctx.
func runTestbed(ctx context.Context, opts testbedOptions, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tb, err := testbed.Start(ctx, testbed.Config{Port: opts.port, Logger: logger, Signed: opts.signed})
	if err != nil {
		return err
	}
	defer tb.Close()
	if opts.writeHints != "" {
		if err := tb.WriteRootHints(opts.writeHints); err != nil {
			return err
		}
	}
	if opts.writeAnchor != "" {
		if err := tb.WriteTrustAnchor(opts.writeAnchor); err != nil {
			return err
		}
	}
	describeTestbed(stdout, tb, opts.writeHints)
	if opts.signed {
		describeSigned(stdout, tb, opts.writeAnchor)
	}
	fmt.Fprintln(stderr, "rensa: testbed running; press Ctrl-C to stop")
	<-ctx.Done()
	return tb.Close()
}

// describeTestbed prints the servers and ready-to-paste queries.
func describeTestbed(w io.Writer, tb *testbed.Testbed, hints string) {
	servers := tb.Servers()
	fmt.Fprintf(w, "rensa testbed: %d name servers on loopback\n\n", len(servers))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tNAMES\tZONES")
	for _, s := range servers {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Addr, strings.Join(s.Names, " "), strings.Join(s.Origins, " "))
	}
	tw.Flush()

	root, leaf := servers[0].Addr, servers[0].Addr
	for _, s := range servers {
		for _, o := range s.Origins {
			if o == "example.test." && leaf == root {
				leaf = s.Addr
			}
		}
	}
	fmt.Fprintf(w, "\nAsk the root, which refers you to test.:\n  rensa query @%s www.example.test A +norec\n", queryServer(root))
	fmt.Fprintf(w, "Ask the example.test. server, which answers:\n  rensa query @%s www.example.test A +norec\n", queryServer(leaf))
	fmt.Fprintf(w, "  dig %s www.example.test A +norec\n", digServer(leaf))
	fmt.Fprintf(w, "Walk the hierarchy query by query:\n  rensa demo\n")
	if strings.HasSuffix(root, ":53") {
		fmt.Fprintf(w, "\nA resolver such as Unbound can use the testbed as it is: root hints%s,\n", hintsNote(hints))
		fmt.Fprintln(w, "plus \"do-not-query-localhost: no\" and \"local-zone: \\\"test.\\\" nodefault\".")
	} else {
		fmt.Fprintln(w, "\nThe servers are not on port 53, so referrals (which imply port 53) only")
		fmt.Fprintln(w, "work for clients that map the ports; run as root for port 53.")
	}
}

// describeSigned prints the trust anchor of a signed testbed and where it
// was written.
func describeSigned(w io.Writer, tb *testbed.Testbed, anchor string) {
	fmt.Fprintln(w, "\nEvery zone is signed (DNSSEC); add +dnssec to a query to see the RRSIGs.")
	if anchor != "" {
		fmt.Fprintf(w, "Root trust anchor, in %s (Unbound: trust-anchor-file):\n", anchor)
	} else {
		fmt.Fprintln(w, "Root trust anchor (write it to a file with --write-anchor FILE):")
	}
	for _, line := range strings.Split(strings.TrimSpace(tb.TrustAnchor()), "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

func hintsNote(file string) string {
	if file == "" {
		return " from --write-hints FILE"
	}
	return " in " + file
}

// queryServer formats addr for "rensa query @...", leaving out port 53.
func queryServer(addr string) string {
	return strings.TrimSuffix(addr, ":53")
}

// digServer formats addr for dig: "@ip" or "@ip -p port".
func digServer(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "@" + addr
	}
	if port == "53" {
		return "@" + host
	}
	return "@" + host + " -p " + port
}
