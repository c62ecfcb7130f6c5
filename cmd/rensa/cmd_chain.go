package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/audit/chain"
	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
)

const chainUsage = `usage: rensa chain NAME [TYPE] [--root-hints FILE --trust-anchor FILE] [--json | --dot | --svg]

Walk and validate the DNSSEC chain of trust of one answer, from the trust
anchor down, and print it as a table: one row per check, with the zone,
the key or DS digest used, what it verifies and what that proves. A
negative answer ends with its NSEC or NSEC3 denial; a broken chain shows
the step where it breaks, and why. TYPE defaults to A.

It resolves from the root itself (IANA root servers and KSKs by default).
Exit status: 0 Secure or Insecure, 1 Bogus (or no answer), 2 usage.

examples:
  rensa chain www.example.test --root-hints testbed.hints --trust-anchor testbed.anchor
  rensa chain example.com DNSKEY --json
  rensa chain www.example.test --dot > chain.dot && dot -Tsvg chain.dot > chain.svg
  rensa chain www.example.test --svg > chain.svg

flags:
`

var _ = register(command{
	name:    "chain",
	summary: "show and check the DNSSEC chain of trust of an answer",
	usage:   chainUsage,
	run:     chainMain,
})

// chainOptions is what "rensa chain" was told.
type chainOptions struct {
	name        string
	qtype       uint16
	rootHints   string
	trustAnchor string
	json, dot   bool
	svg         bool

	// dial replaces the network (tests: the testbed's port mapping).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// now replaces the clock of resolution and validation (tests: the
	// signing time of a deterministic testbed). Default: time.Now.
	now func() time.Time
}

func (o *chainOptions) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.rootHints, "root-hints", "", "root hints `FILE` (named.root format; default: the IANA root servers)")
	fs.StringVar(&o.trustAnchor, "trust-anchor", "", "trust anchors from `FILE` (DS or DNSKEY lines; default: the IANA root KSKs)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.BoolVar(&o.dot, "dot", false, "print a Graphviz graph of the chain")
	fs.BoolVar(&o.svg, "svg", false, "render the graph as SVG (needs Graphviz's dot)")
}

func chainMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts chainOptions
	fs := newFlagSet("chain", chainUsage, stderr)
	opts.addFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 1 || len(rest) > 2 {
		return errUsage("chain needs NAME and an optional TYPE")
	}
	opts.name, opts.qtype = dns.Fqdn(rest[0]), dns.TypeA
	if len(rest) == 2 {
		t, ok := dns.StringToType[strings.ToUpper(rest[1])]
		if !ok {
			return errUsage("unknown type %q", rest[1])
		}
		opts.qtype = t
	}
	return runChain(ctx, opts, stdout, stderr)
}

// runChain walks the chain and prints it; errFindings when it is Bogus.
func runChain(ctx context.Context, opts chainOptions, stdout, stderr io.Writer) error {
	cfg := resolver.Config{Dial: opts.dial, Now: opts.now}
	if opts.rootHints != "" {
		f, err := os.Open(opts.rootHints)
		if err != nil {
			return err
		}
		cfg.Hints, err = resolver.ParseHints(f, opts.rootHints)
		f.Close()
		if err != nil {
			return err
		}
	}
	r, err := resolver.New(cfg)
	if err != nil {
		return err
	}
	var anchors *validate.Anchors
	if opts.trustAnchor != "" {
		if anchors, err = validate.ReadAnchors(opts.trustAnchor); err != nil {
			return err
		}
	}
	v, err := validate.New(validate.Config{Anchors: anchors, Now: opts.now})
	if err != nil {
		return err
	}
	rep, err := chain.Walk(ctx, chain.Config{Resolver: r, Validator: v}, opts.name, opts.qtype)
	if err != nil {
		return err
	}
	switch {
	case opts.json:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	case opts.dot:
		err = chain.WriteDOT(stdout, rep)
	case opts.svg:
		var b strings.Builder
		if err = chain.WriteDOT(&b, rep); err == nil {
			cmd := exec.CommandContext(ctx, "dot", "-Tsvg")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(b.String()), stdout, stderr
			err = cmd.Run()
		}
	default:
		err = chain.WriteTable(stdout, rep)
	}
	if err != nil {
		return err
	}
	if rep.Security == validate.Bogus {
		return errFindings
	}
	return nil
}
