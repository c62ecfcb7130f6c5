package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/audit/chain"
	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/testbed"
	"github.com/rensa-dns/rensa/internal/transport"
)

var _ = register(command{
	name:    "demo",
	summary: "walk and validate a name down the signed testbed, then watch a forged answer fail",
	usage:   demoUsage,
	run:     demoMain,
})

const demoUsage = `usage: rensa demo [--port N] [NAME [TYPE]]

Start the signed testbed (see "rensa testbed --signed") inside this
process and tell the story of DNS and DNSSEC on it, in six parts:

  1. The hierarchy: a root, TLDs and zones below them, each on its own
     name server on loopback and each signed; the root's trust anchor.
  2. NAME (default www.example.test) and TYPE (default A) resolved by
     hand, the way a resolver does, printing every query and reply: a
     root server refers us to the servers of the TLD (NS records and their
     addresses, glue), those refer us further down, until a server that is
     authoritative for the name answers. At each zone cut the referral
     carries the child's DS record (the hash of its key-signing key), and
     each zone's keys (DNSKEY) are asked for and matched against it. A
     referral without glue is followed by first resolving a server's name;
     an alias (CNAME) to another zone by starting again from the root.
  3. rensa's validating resolver asks NAME, an alias into another zone
     (cross.example.test A) and a name that does not exist
     (nosuch.example.test A), printing each resolution's steps and its
     DNSSEC verdict; then NAME again as a client asks it, over UDP with
     the DO bit: answered from the cache, with AD=1 (authentic).
  4. The chain of trust behind that answer, as "rensa chain" prints it:
     one row per check, from the trust anchor to the answer's signature.
  5. A tampered answer: an on-path attacker (a demo-only function between
     the resolver and the network) rewrites the address of
     www.example.test A. The validating resolver answers SERVFAIL with an
     Extended DNS Error, and the chain shows the step that fails; the
     same attack against a resolver with validation off succeeds.
  6. A summary.

As root the servers listen on port 53 of their own 127.53.x.x addresses;
otherwise on free ports, which the demo maps. Nothing leaves loopback.
Exits 1 if a step does not turn out as it should.

Examples:
  rensa demo
  rensa demo www.glueless.test AAAA
  rensa demo www.legacy.example.test TXT

Flags:
`

// Bounds of the demo, so a broken hierarchy ends it instead of looping
// (the resolver's real limits are in its limits.go).
const (
	demoMaxQueries = 40               // walk and DNSKEY queries in one walk
	demoMaxDepth   = 3                // nested walks for glueless server names
	demoMaxAliases = 8                // CNAMEs followed from the root
	demoTimeout    = 2 * time.Second  // per query attempt of the walk
	demoClientWait = 5 * time.Second  // a client's query to rensa's resolver
	demoDeadline   = 20 * time.Second // the whole demo
)

// The demo's tamperer rewrites the address of this name to this one.
const (
	tamperName = "www.example.test."
	tamperAddr = "203.0.113.66" // TEST-NET-3 (RFC 5737): "the attacker's server"
)

// demoOptions is what "rensa demo" was told.
type demoOptions struct {
	port  int // testbed.PortAuto, testbed.PortFree or a port
	name  string
	qtype uint16
}

func (o *demoOptions) addFlags(fs *flag.FlagSet) {
	fs.Func("port", "run the testbed on port `N` (default 53 as root, else free ports; 0: free ports)", func(s string) error {
		p, err := parsePort(s)
		o.port = p
		return err
	})
}

func demoMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts := demoOptions{name: "www.example.test.", qtype: dns.TypeA}
	fs := newFlagSet("demo", demoUsage, stderr)
	opts.addFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 2 {
		return errUsage("too many arguments: want [NAME [TYPE]]")
	}
	if len(rest) > 0 {
		if _, ok := dns.IsDomainName(rest[0]); !ok {
			return errUsage("%q is not a domain name", rest[0])
		}
		opts.name = dns.Fqdn(rest[0])
	}
	if len(rest) > 1 {
		t, ok := dns.StringToType[strings.ToUpper(rest[1])]
		if !ok {
			return errUsage("unknown type %q", rest[1])
		}
		opts.qtype = t
	}
	return runDemo(ctx, opts, stdout, stderr)
}

// demo is one run of "rensa demo": the testbed and what the parts found,
// for the summary.
type demo struct {
	out    io.Writer
	opts   demoOptions
	tb     *testbed.Testbed
	logger *slog.Logger
	hints  resolver.Hints
	anchor *validate.Anchors

	walkQueries int    // part 2
	secure      bool   // part 3: opts.name came back Secure
	steps       int    // part 4: checks in its chain
	failStep    string // part 5: the step the tampered answer failed
	forged      bool   // part 5: validation off took the forged address
}

// runDemo starts the signed testbed and runs the demo's parts in order.
func runDemo(ctx context.Context, opts demoOptions, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, demoDeadline)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tb, err := testbed.Start(ctx, testbed.Config{Port: opts.port, Logger: logger, Signed: true})
	if err != nil {
		return err
	}
	defer tb.Close()
	d := &demo{out: stdout, opts: opts, tb: tb, logger: logger}
	if d.hints, err = resolver.ParseHints(strings.NewReader(tb.RootHints()), "testbed root hints"); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if d.anchor, err = validate.ParseAnchors(strings.NewReader(tb.TrustAnchor()), "testbed trust anchor"); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for _, part := range []func(context.Context) error{
		d.hierarchy,  // 1
		d.walk,       // 2
		d.validating, // 3 and 4
		d.tampered,   // 5
		// The lab's attacks and defences ("rensa lab all --short") will
		// be a part of their own here, between the tampered answer and
		// the summary.
		d.summary, // 6
	} {
		if err := part(ctx); err != nil {
			return err
		}
	}
	return nil
}

// heading starts part n of the demo.
func (d *demo) heading(n int, title string) {
	if n > 1 {
		fmt.Fprintln(d.out)
	}
	fmt.Fprintf(d.out, ";; ===== %d. %s =====\n", n, title)
}

// say prints one comment line.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, ";; %s\n", fmt.Sprintf(format, args...))
}

// hierarchy is part 1: the servers, what signing means, the trust anchor
// and the root hints.
func (d *demo) hierarchy(context.Context) error {
	d.heading(1, "A signed DNS hierarchy on loopback")
	servers := d.tb.Servers()
	ports := "each on port 53 of its own address"
	if !strings.HasSuffix(servers[0].Addr, ":53") {
		ports = "not on port 53 (that takes root and a free port 53), so this demo maps the port 53 that glue implies to theirs"
	}
	d.say("The testbed runs %d name servers on 127.53.0.0/16, %s.", len(servers), ports)
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	for _, s := range servers {
		fmt.Fprintf(tw, ";;   %s\t%s\tserves %s\n", s.Addr, strings.Join(s.Names, " "), strings.Join(s.Origins, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	d.say("Every zone is signed (DNSSEC) with two keys, published in its DNSKEY records: a")
	d.say("key-signing key (KSK), which signs the DNSKEY records, and a zone-signing key (ZSK),")
	d.say("which signs everything else. Each parent publishes a DS record for each signed child:")
	d.say("a hash of the child's KSK, signed by the parent. The root has no parent, so a validating")
	d.say("resolver is given its KSK's hash, the trust anchor, where every chain of trust starts:")
	for _, ds := range d.anchor.DS["."] {
		fmt.Fprintf(d.out, "%s\n", ds)
	}
	return nil
}

// walk is part 2: opts.name resolved by hand from the root.
func (d *demo) walk(ctx context.Context) error {
	d.heading(2, "From the root down, referral by referral")
	roots, err := parseHints(d.tb.RootHints())
	if err != nil {
		return err
	}
	d.say("A resolver knows only the root servers, from its root hints:")
	for _, r := range roots {
		d.say("  %s at %s", r.name, r.addr)
	}
	d.say("Resolving %s %s from the root, one query at a time, with the DO bit", d.opts.name, dns.TypeToString[d.opts.qtype])
	d.say("(\"DNSSEC OK\": send the signatures too), and asking each zone for its keys.")
	w := &walker{out: d.out, roots: roots, anchor: d.anchor.DS["."], dial: d.tb.Dial}
	res, err := w.resolve(ctx, d.opts.name, d.opts.qtype, 0)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	printSummary(d.out, d.opts, res, w.queries)
	d.say("(and %d %s for the zones' keys, DNSKEY)", w.keyQueries, plural(w.keyQueries, "query", "queries"))
	d.walkQueries = w.queries
	return nil
}

// validating is parts 3 and 4: rensa's validating resolver resolves a
// few names, printing each resolution's trace and verdict, then a client
// asks the first name again (a cache hit, with AD=1); then the chain of
// trust behind that answer.
func (d *demo) validating(ctx context.Context) error {
	d.heading(3, "rensa's validating resolver")
	rec, err := newVerdictRecorder(d.anchor)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	var sends atomic.Int64 // upstream queries, for the cache hit
	r, err := resolver.New(resolver.Config{Hints: d.hints, Dial: d.tb.Dial, Validator: rec,
		Trace: func(t resolver.Transition) {
			if t.Step == "send" {
				sends.Add(1)
			}
		}})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.say("Now the same with rensa's resolver (internal/resolver) over the same testbed:")
	d.say("a state machine that asks one label more per zone (QNAME minimisation),")
	d.say("randomises the case of names (0x20), caches what it learns, and validates")
	d.say("every answer from the trust anchor down before it serves it.")
	d.say("Each reply line shows the question actually sent: minimised, in random case.")
	first, err := d.resolutions(ctx, r, rec)
	if err != nil {
		return err
	}
	d.secure = first.Security == validate.Secure
	if err := d.clientAsks(ctx, r, &sends, first.Security); err != nil {
		return err
	}
	return d.chainOf(d.opts.name, d.opts.qtype, first, rec)
}

// resolutions resolves opts.name, an alias into another zone and a name
// that does not exist with r, printing each trace and verdict, and
// returns the first result.
func (d *demo) resolutions(ctx context.Context, r *resolver.Resolver, rec *verdictRecorder) (resolver.Result, error) {
	questions := []struct {
		name  string
		qtype uint16
		why   string
	}{
		{d.opts.name, d.opts.qtype, "the name walked above"},
		{"cross.example.test.", dns.TypeA, "an alias (CNAME) into another zone"},
		{"nosuch.example.test.", dns.TypeA, "a name that does not exist"},
	}
	var first resolver.Result
	for i, q := range questions {
		res := r.Resolve(ctx, q.name, q.qtype)
		if i == 0 {
			first = res
		}
		fmt.Fprintf(d.out, "\n;; Resolution %d: %s %s (%s)\n", i+1, q.name, dns.TypeToString[q.qtype], q.why)
		printTrace(d.out, res.Trace)
		n := 0
		for _, tr := range res.Trace {
			if tr.Step == "send" {
				n++
			}
		}
		fmt.Fprintf(d.out, ";; Result: %s (%s) after %d upstream %s; DNSSEC: %s\n",
			dns.RcodeToString[res.Rcode], res.Kind, n, plural(n, "query", "queries"), res.Security)
		if vd, ok := rec.verdict(q.name, q.qtype); ok {
			d.say("The validator made %d %s (the answer with its signatures, DS and DNSKEY RRsets) and checked %d %s.",
				vd.Work.Fetches, plural(vd.Work.Fetches, "fetch", "fetches"), vd.Work.Verifications, plural(vd.Work.Verifications, "signature", "signatures"))
		}
		for _, rr := range append(res.Answer, res.Authority...) {
			if t := rr.Header().Rrtype; t != dns.TypeRRSIG && t != dns.TypeNSEC && t != dns.TypeNSEC3 {
				fmt.Fprintf(d.out, "%s\n", rr)
			}
		}
		if res.Kind == resolver.KindServFail {
			return first, fmt.Errorf("demo: the resolver failed on %s %s%s", q.name, dns.TypeToString[q.qtype], edeSuffix(res.EDE))
		}
	}
	return first, nil
}

// clientAsks asks r for opts.name again as a client does, over UDP on
// loopback with DO set: a cache hit, with AD=1 when the answer is
// secure. sends counts r's upstream queries.
func (d *demo) clientAsks(ctx context.Context, r *resolver.Resolver, sends *atomic.Int64, security validate.Security) error {
	addr, stop, err := demoListen(r, d.logger)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(d.out, "\n;; Resolution 4: %s %s (the first name again: now in the cache)\n", d.opts.name, dns.TypeToString[d.opts.qtype])
	d.say("This time as a client asks: over UDP to rensa's resolver listening on %s,", addr)
	d.say("with RD=1 (recursion desired) and DO=1, as \"dig +dnssec\" does.")
	before := sends.Load()
	reply, err := askResolver(ctx, addr, d.opts.name, d.opts.qtype)
	if err != nil {
		return fmt.Errorf("demo: asking the resolver: %w", err)
	}
	n := int(sends.Load() - before)
	printReply(d.out, reply)
	fmt.Fprintf(d.out, ";; Result: %s after %d upstream %s\n", dns.RcodeToString[reply.Rcode], n, plural(n, "query", "queries"))
	if n == 0 {
		d.say("Answered from the cache: no upstream query.")
	}
	if reply.AuthenticatedData {
		d.say("AD=1 (Authenticated Data): the resolver proved the answer authentic (secure).")
	} else {
		d.say("AD=0: the answer is not proven authentic (%s).", security)
	}
	return nil
}

// chainOf is part 4: the chain of trust behind the answer res, from the
// verdict the resolver's validator gave it.
func (d *demo) chainOf(name string, qtype uint16, res resolver.Result, rec *verdictRecorder) error {
	d.heading(4, "The chain of trust behind that answer")
	vd, ok := rec.verdict(name, qtype)
	if !ok {
		return fmt.Errorf("demo: no verdict for %s %s", name, dns.TypeToString[qtype])
	}
	d.say("Each row is one check the validator made, from the trust anchor down to the answer's")
	d.say("signature (\"rensa chain NAME\" prints the same table for any name; --dot draws it):")
	q := dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET}
	if err := chain.WriteTable(d.out, chain.ReportOf(q, res, vd)); err != nil {
		return err
	}
	d.steps = len(vd.Steps)
	return nil
}

// tampered is part 5: an on-path tamperer rewrites the address of
// tamperName; a validating resolver rejects the answer, naming the step
// that fails, and a resolver with validation off takes the forgery.
func (d *demo) tampered(ctx context.Context) error {
	d.heading(5, "A tampered answer")
	t := &tamperer{next: demoExchange(d.tb.Dial), name: tamperName, addr: net.ParseIP(tamperAddr)}
	d.say("An attacker on the path between the resolver and the servers (here a function wrapped")
	d.say("around the resolver's network exchange: demo only) rewrites the address in every reply")
	d.say("that carries %s A, to %s. It cannot make the signature (RRSIG) match:", tamperName, tamperAddr)
	d.say("that takes the private zone-signing key of example.test.")
	q := dns.Question{Name: tamperName, Qtype: dns.TypeA, Qclass: dns.ClassINET}
	if err := d.rejected(ctx, t, q); err != nil {
		return err
	}
	if err := d.accepted(ctx, t, q); err != nil {
		return err
	}
	d.say("(The tamperer rewrote %d replies in all.)", t.count.Load())
	return nil
}

// rejected asks a new validating resolver behind t for q: SERVFAIL with
// an EDE, and the chain of trust with the step that fails.
func (d *demo) rejected(ctx context.Context, t *tamperer, q dns.Question) error {
	fmt.Fprintf(d.out, "\n;; With validation (a new resolver, empty caches):\n")
	rec, err := newVerdictRecorder(d.anchor)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	reply, err := d.askThrough(ctx, resolver.Config{Hints: d.hints, Exchange: t.exchange, Validator: rec}, q)
	if err != nil {
		return err
	}
	printReply(d.out, reply)
	ede := replyEDE(reply)
	if reply.Rcode != dns.RcodeServerFailure || ede == nil {
		return fmt.Errorf("demo: the tampered answer was not rejected with SERVFAIL and an EDE (%s)", dns.RcodeToString[reply.Rcode])
	}
	d.say("Rejected: SERVFAIL, with Extended DNS Error %d (%s) saying why; the forged address", ede.InfoCode, dns.ExtendedErrorCodeToString[ede.InfoCode])
	d.say("never reaches the client. Where the chain of trust breaks:")
	vd, ok := rec.verdict(q.Name, q.Qtype)
	if !ok {
		return fmt.Errorf("demo: no verdict for the tampered answer")
	}
	if err := chain.WriteTable(d.out, chain.ReportOf(q, resolver.Result{Rcode: reply.Rcode}, vd)); err != nil {
		return err
	}
	for i, s := range vd.Steps {
		if s.Err != "" {
			d.failStep = fmt.Sprintf("step %d (%s)", i+1, s.Verifies)
			d.say("<- the chain breaks at step %d, in zone %s: %s (see RESULT).", i+1, s.Zone, s.Verifies)
			d.say("Every step above it holds: the keys are the real ones; only the data changed.")
			return nil
		}
	}
	return fmt.Errorf("demo: the tampered answer's chain shows no failing step")
}

// accepted asks a resolver without validation behind t for q: the
// forged address is served.
func (d *demo) accepted(ctx context.Context, t *tamperer, q dns.Question) error {
	fmt.Fprintf(d.out, "\n;; Without validation (the same attacker, a resolver with validation off):\n")
	reply, err := d.askThrough(ctx, resolver.Config{Hints: d.hints, Exchange: t.exchange}, q)
	if err != nil {
		return err
	}
	printReply(d.out, reply)
	for _, rr := range reply.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.Equal(t.addr) {
			d.forged = true
		}
	}
	if !d.forged {
		return fmt.Errorf("demo: without validation the forged address was not served (%s)", dns.RcodeToString[reply.Rcode])
	}
	d.say("Accepted: the forged address %s is served, and cached for every client that asks.", tamperAddr)
	d.say("Without validation a resolver cannot tell a forged answer from a real one.")
	return nil
}

// askThrough starts a resolver with cfg on loopback, asks it q as a
// client does and stops it.
func (d *demo) askThrough(ctx context.Context, cfg resolver.Config, q dns.Question) (*dns.Msg, error) {
	r, err := resolver.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	addr, stop, err := demoListen(r, d.logger)
	if err != nil {
		return nil, err
	}
	defer stop()
	reply, err := askResolver(ctx, addr, q.Name, q.Qtype)
	if err != nil {
		return nil, fmt.Errorf("demo: asking the resolver: %w", err)
	}
	return reply, nil
}

// summary is part 6.
func (d *demo) summary(context.Context) error {
	d.heading(6, "Summary")
	d.say("- A resolver finds any name from the root hints alone: %d %s down the referrals for %s %s.",
		d.walkQueries, plural(d.walkQueries, "query", "queries"), d.opts.name, dns.TypeToString[d.opts.qtype])
	d.say("- DNSSEC links the zones: each referral carried the child's DS, the hash of the key")
	d.say("  the child signs its keys with, and the trust anchor vouches for the root's key.")
	if d.secure {
		d.say("- rensa's resolver proved the answer in %d checks from the trust anchor down: secure, AD=1.", d.steps)
	} else {
		d.say("- rensa's resolver made %d checks; the answer is not secure, so no AD bit.", d.steps)
	}
	d.say("- A tampered address failed %s: SERVFAIL with an EDE, never served.", d.failStep)
	d.say("- With validation off, the same forgery was accepted: only validation catches it.")
	return nil
}

// verdictRecorder is a resolver.Validator that keeps the verdict it
// gives each question, so the demo can show the chain of trust behind the
// answer the resolver served.
type verdictRecorder struct {
	v *validate.Validator

	mu       sync.Mutex
	verdicts map[dns.Question]validate.Verdict // guarded by mu; by canonical name
}

func newVerdictRecorder(anchors *validate.Anchors) (*verdictRecorder, error) {
	v, err := validate.New(validate.Config{Anchors: anchors})
	if err != nil {
		return nil, err
	}
	return &verdictRecorder{v: v, verdicts: map[dns.Question]validate.Verdict{}}, nil
}

// Validate validates with the recorder's validator and keeps the verdict.
func (rv *verdictRecorder) Validate(ctx context.Context, q dns.Question, fetch validate.Fetch) validate.Verdict {
	vd := rv.v.Validate(ctx, q, fetch)
	q.Name = dns.CanonicalName(q.Name)
	rv.mu.Lock()
	rv.verdicts[q] = vd
	rv.mu.Unlock()
	return vd
}

// verdict returns the verdict last given for name and qtype.
func (rv *verdictRecorder) verdict(name string, qtype uint16) (validate.Verdict, bool) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	vd, ok := rv.verdicts[dns.Question{Name: dns.CanonicalName(name), Qtype: qtype, Qclass: dns.ClassINET}]
	return vd, ok
}

// tamperer is the demo's on-path attacker, for the demo only: it wraps a
// resolver's exchange and rewrites the address of every A record of name
// in the replies, leaving the signatures as they were.
type tamperer struct {
	next  resolver.ExchangeFunc
	name  string
	addr  net.IP
	count atomic.Int64 // replies rewritten
}

func (t *tamperer) exchange(ctx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
	reply, err := t.next(ctx, server, m, tcp)
	if err != nil {
		return reply, err
	}
	var out *dns.Msg
	for i, rr := range reply.Answer {
		if a, ok := rr.(*dns.A); ok && dns.CanonicalName(a.Hdr.Name) == t.name {
			if out == nil {
				out = reply.Copy() // never change a message another owns
				t.count.Add(1)
			}
			out.Answer[i].(*dns.A).A = t.addr
		}
	}
	if out == nil {
		return reply, nil
	}
	return out, nil
}

// demoExchange is a plain Do53 exchange through dial, as the resolver's
// default one, for the tamperer to wrap.
func demoExchange(dial func(ctx context.Context, network, addr string) (net.Conn, error)) resolver.ExchangeFunc {
	return func(ctx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
		d := &transport.Do53{Addr: server.String(), Timeout: demoTimeout, ForceTCP: tcp, Dial: dial}
		return d.Exchange(ctx, m)
	}
}

// demoListen serves r on a free port of 127.0.0.1, UDP and TCP, and
// returns the address and a function that stops it.
func demoListen(r *resolver.Resolver, logger *slog.Logger) (string, func(), error) {
	srv, err := server.New(server.Config{Handler: r, Logger: logger})
	if err != nil {
		return "", nil, fmt.Errorf("demo: %w", err)
	}
	udp, _, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo: %w", err)
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), demoClientWait)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return udp.String(), stop, nil
}

// askResolver asks the resolver at addr for name and qtype as a stub
// client does: RD and DO set.
func askResolver(ctx context.Context, addr, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, true)
	c := &transport.Do53{Addr: addr, Timeout: demoClientWait}
	return c.Exchange(ctx, m)
}

// printReply prints a reply's header flags, Extended DNS Error and
// records, as dig does, signatures told in words.
func printReply(w io.Writer, m *dns.Msg) {
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"},
		{m.RecursionAvailable, "ra"}, {m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	fmt.Fprintf(w, ";; Reply: %s, flags: %s\n", dns.RcodeToString[m.Rcode], strings.Join(flags, " "))
	if ede := replyEDE(m); ede != nil {
		fmt.Fprintf(w, ";; EDE: %d (%s): %s\n", ede.InfoCode, dns.ExtendedErrorCodeToString[ede.InfoCode], ede.ExtraText)
	}
	for _, rr := range m.Answer {
		if sig, ok := rr.(*dns.RRSIG); ok {
			fmt.Fprintf(w, ";;   ^ signed (RRSIG over the %s RRset) by key %d of %s\n", dns.TypeToString[sig.TypeCovered], sig.KeyTag, sig.SignerName)
			continue
		}
		fmt.Fprintf(w, "%s\n", rr)
	}
}

// replyEDE returns the Extended DNS Error of m, nil if it has none.
func replyEDE(m *dns.Msg) *dns.EDNS0_EDE {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				return e
			}
		}
	}
	return nil
}

// edeSuffix formats e for an error message: ": text", or "".
func edeSuffix(e *dns.EDNS0_EDE) string {
	if e == nil {
		return ""
	}
	return ": " + e.ExtraText
}

// printTrace prints a resolution's state transitions, one a line,
// indented for sub-queries (NS addresses looked up on the way).
func printTrace(w io.Writer, trace []resolver.Transition) {
	for _, tr := range trace {
		line := fmt.Sprintf("%-11s %s %s", tr.Step, tr.Name, dns.TypeToString[tr.Type])
		if tr.Zone != "" {
			line += "  zone " + tr.Zone
		}
		if tr.Server.IsValid() {
			line += "  server " + tr.Server.String()
		}
		if tr.Note != "" {
			line += "  (" + tr.Note + ")"
		}
		fmt.Fprintf(w, ";;   %s%s\n", strings.Repeat("    ", tr.Depth), line)
	}
}

// plural returns one when n is 1 and many otherwise.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// parseHints reads the NS and address records of root hints.
func parseHints(text string) ([]demoServer, error) {
	var out []demoServer
	addrs := map[string][]netip.Addr{}
	var names []string
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "root hints")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch rr := rr.(type) {
		case *dns.NS:
			names = append(names, dns.CanonicalName(rr.Ns))
		case *dns.A, *dns.AAAA:
			if ip, ok := addrOf(rr); ok {
				owner := dns.CanonicalName(rr.Header().Name)
				addrs[owner] = append(addrs[owner], ip)
			}
		}
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		for _, ip := range addrs[n] {
			out = append(out, demoServer{name: n, addr: ip})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("demo: the root hints name no server with an address")
	}
	return out, nil
}

func addrOf(rr dns.RR) (netip.Addr, bool) {
	switch rr := rr.(type) {
	case *dns.A:
		return netip.AddrFromSlice(rr.A.To4())
	case *dns.AAAA:
		return netip.AddrFromSlice(rr.AAAA)
	}
	return netip.Addr{}, false
}

// printSummary prints the outcome of the walk and the records that make
// up the answer, CNAMEs included.
func printSummary(w io.Writer, opts demoOptions, res walkResult, queries int) {
	what := fmt.Sprintf("%s %s", opts.name, dns.TypeToString[opts.qtype])
	plural := "queries"
	if queries == 1 {
		plural = "query"
	}
	fmt.Fprintf(w, "\n;; Done in %d %s: %s\n", queries, plural, strings.Join(res.path, " -> "))
	switch {
	case res.rcode == dns.RcodeNameError:
		fmt.Fprintf(w, ";; %s does not exist (NXDOMAIN).\n", what)
	case len(res.data) == 0:
		fmt.Fprintf(w, ";; %s exists but has no records of that type (NODATA).\n", what)
	default:
		fmt.Fprintf(w, ";; The answer to %s:\n", what)
	}
	for _, rr := range res.chain {
		if rr.Header().Rrtype != dns.TypeRRSIG {
			fmt.Fprintf(w, "%s\n", rr)
		}
	}
}

// demoServer is a name server the walk may ask.
type demoServer struct {
	name string // host name, for the reader
	addr netip.Addr
}

func (s demoServer) String() string { return fmt.Sprintf("%s (%s)", s.name, s.addr) }

// walker resolves names by iterating from the root, printing each step.
type walker struct {
	out        io.Writer
	roots      []demoServer
	anchor     []*dns.DS // the root's trust anchor (DS), to check its keys against
	dial       func(ctx context.Context, network, addr string) (net.Conn, error)
	queries    int                  // sent so far, over all nested walks
	keyQueries int                  // DNSKEY queries sent, one per zone
	keyed      map[string]bool      // zones whose keys were asked
	ds         map[string][]*dns.DS // DS records of zones, from the referrals to them
}

// walkResult is what a walk found.
type walkResult struct {
	rcode int
	data  []dns.RR // the records of the asked type, CNAMEs followed
	chain []dns.RR // every answer record on the way: CNAMEs, DNAMEs, data
	path  []string // the zones asked, in order ("root", "test.", ...)
}

// walkStep is the state of one walk.
type walkStep int

const (
	stepAsk      walkStep = iota // ask one of st.servers
	stepReferral                 // go down to the servers named by a referral
	stepGlueless                 // referral without glue: resolve a server name
	stepAlias                    // CNAME out of the zone: restart at the root
	stepDone
)

// walkState is the data of one walk (one question, maybe nested).
type walkState struct {
	qname   string
	qtype   uint16
	depth   int          // 0 for the demo's question, 1+ for server names
	zone    string       // the zone whose servers are asked
	servers []demoServer // servers of zone with known addresses
	reply   *dns.Msg     // the last reply
	server  demoServer   // the server that sent it
	nsNames []string     // from a glueless referral
	aliases int
	res     walkResult
}

// resolve walks qname/qtype from the root.
func (w *walker) resolve(ctx context.Context, qname string, qtype uint16, depth int) (walkResult, error) {
	st := &walkState{qname: qname, qtype: qtype, depth: depth, zone: ".", servers: w.roots}
	step := stepAsk
	for step != stepDone {
		var err error
		switch step {
		case stepAsk:
			step, err = w.ask(ctx, st)
		case stepReferral:
			step, err = w.referral(ctx, st)
		case stepGlueless:
			step, err = w.glueless(ctx, st)
		case stepAlias:
			step, err = w.alias(st)
		}
		if err != nil {
			return st.res, err
		}
	}
	return st.res, nil
}

// say prints a comment line indented for the walk's depth.
func (w *walker) say(st *walkState, format string, args ...any) {
	fmt.Fprintf(w.out, "%s;; %s\n", strings.Repeat("    ", st.depth), fmt.Sprintf(format, args...))
}

// records prints records indented for the walk's depth. A signature
// (RRSIG) is told in words: its base64 would fill the screen.
func (w *walker) records(st *walkState, rrs []dns.RR) {
	for _, rr := range rrs {
		if sig, ok := rr.(*dns.RRSIG); ok {
			w.say(st, "  ^ signed (RRSIG over the %s RRset of %s) by key %d of %s, valid until %s",
				dns.TypeToString[sig.TypeCovered], sig.Hdr.Name, sig.KeyTag, sig.SignerName, dns.TimeToString(sig.Expiration))
			continue
		}
		fmt.Fprintf(w.out, "%s%s\n", strings.Repeat("    ", st.depth), rr)
	}
}

// ask sends the question to the first server that replies and classifies
// the reply.
func (w *walker) ask(ctx context.Context, st *walkState) (walkStep, error) {
	zoneName := zoneLabel(st.zone)
	st.res.path = append(st.res.path, zoneName)
	for _, srv := range st.servers {
		if w.queries+w.keyQueries >= demoMaxQueries {
			return stepDone, fmt.Errorf("gave up after %d queries", w.queries+w.keyQueries)
		}
		w.queries++
		fmt.Fprintln(w.out)
		w.say(st, "Query %d: %s %s to %s, a server for %s", w.queries, st.qname, dns.TypeToString[st.qtype], srv, zoneName)
		reply, out, err := w.exchange(ctx, srv, st.qname, st.qtype)
		if err != nil {
			w.say(st, "no reply: %v; trying the next server", err)
			continue
		}
		if out.Truncated {
			w.say(st, "the UDP reply was truncated (TC=1), so the query was repeated over TCP")
		}
		st.reply, st.server = reply, srv
		return w.classify(ctx, st)
	}
	return stepDone, fmt.Errorf("no server for %s replied", zoneName)
}

// exchange sends one non-recursive query, as resolvers do to
// authoritative servers, with the DO bit: send the DNSSEC records too.
func (w *walker) exchange(ctx context.Context, srv demoServer, qname string, qtype uint16) (*dns.Msg, transport.Outcome, error) {
	m := new(dns.Msg)
	m.SetQuestion(qname, qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, true)
	d := transport.Do53{Addr: netip.AddrPortFrom(srv.addr, 53).String(), Timeout: demoTimeout, Dial: w.dial}
	return d.ExchangeOutcome(ctx, m)
}

// replyKind is what a reply means for the walk.
type replyKind int

const (
	kindAnswer   replyKind = iota // data of the asked type
	kindAlias                     // a CNAME to a name this server cannot answer for
	kindReferral                  // go to the servers of a zone further down
	kindNoData                    // the name exists, without data of that type
	kindNXDomain                  // the name does not exist
	kindBad                       // anything else: an error
)

// classify types the reply (RFC 1034 section 5.3.3, and RFC 2308 for
// negative answers), prints it and picks the next step.
func (w *walker) classify(ctx context.Context, st *walkState) (walkStep, error) {
	m := st.reply
	kind, final := typify(m, st.qname, st.qtype, st.zone)
	aa := "not authoritative"
	if m.Authoritative {
		aa = "authoritative, AA set"
	}
	rcode := dns.RcodeToString[m.Rcode]
	switch kind {
	case kindAnswer:
		w.say(st, "Reply: the answer (%s, %s).", rcode, aa)
		w.records(st, m.Answer)
		st.res.rcode = dns.RcodeSuccess
		st.res.data = append(st.res.data, dataOf(m.Answer, final, st.qtype)...)
		st.res.chain = append(st.res.chain, m.Answer...)
		return stepDone, w.keys(ctx, st)
	case kindAlias:
		w.say(st, "Reply: an alias (CNAME) to a name in another zone (%s, %s).", rcode, aa)
		w.records(st, m.Answer)
		st.res.chain = append(st.res.chain, m.Answer...)
		st.qname = final
		return stepAlias, w.keys(ctx, st)
	case kindReferral:
		return stepReferral, nil
	case kindNoData, kindNXDomain:
		w.negative(st, kind, rcode, aa)
		return stepDone, w.keys(ctx, st)
	}
	w.say(st, "Reply: %s, %s, which the walk cannot use:", rcode, aa)
	w.records(st, append(append(m.Answer, m.Ns...), m.Extra...))
	return stepDone, fmt.Errorf("unexpected reply to %s %s from a server for %s", st.qname, dns.TypeToString[st.qtype], st.zone)
}

// negative prints a NODATA or NXDOMAIN reply.
func (w *walker) negative(st *walkState, kind replyKind, rcode, aa string) {
	m := st.reply
	if kind == kindNXDomain {
		w.say(st, "Reply: the name does not exist (%s, %s).", rcode, aa)
		st.res.rcode = dns.RcodeNameError
	} else {
		w.say(st, "Reply: the name exists but has no %s records (NODATA: %s with an empty answer, %s).", dns.TypeToString[st.qtype], rcode, aa)
		st.res.rcode = dns.RcodeSuccess
	}
	w.records(st, m.Answer)
	st.res.chain = append(st.res.chain, m.Answer...)
	w.say(st, "The SOA in the authority section says how long to remember that (RFC 2308):")
	w.records(st, m.Ns)
	for _, rr := range m.Ns {
		if t := rr.Header().Rrtype; t == dns.TypeNSEC || t == dns.TypeNSEC3 {
			w.say(st, "The %s records prove it: signed, they name what exists around the name, so the denial", dns.TypeToString[t])
			w.say(st, "cannot be forged (RFC 4035 section 5.4, RFC 5155).")
			return
		}
	}
}

// typify classifies m. It follows CNAMEs in the answer from qname and
// returns the name it ended on.
func typify(m *dns.Msg, qname string, qtype uint16, zone string) (replyKind, string) {
	name := dns.CanonicalName(qname)
	for range demoMaxAliases + 1 {
		next := ""
		for _, rr := range m.Answer {
			if dns.CanonicalName(rr.Header().Name) != name {
				continue
			}
			if rr.Header().Rrtype == qtype {
				return kindAnswer, name
			}
			if c, ok := rr.(*dns.CNAME); ok {
				next = dns.CanonicalName(c.Target)
			}
		}
		if next == "" {
			break
		}
		name = next
	}
	switch {
	case m.Rcode == dns.RcodeNameError:
		return kindNXDomain, name
	case m.Rcode != dns.RcodeSuccess:
		return kindBad, name
	case name != dns.CanonicalName(qname) && !hasSOAFor(m.Ns, name):
		return kindAlias, name
	case referralZone(m, zone) != "":
		return kindReferral, name
	case m.Authoritative || hasSOAFor(m.Ns, name):
		return kindNoData, name
	}
	return kindBad, name
}

// hasSOAFor reports whether the authority section has the SOA of a zone
// containing name: a negative answer from that zone.
func hasSOAFor(ns []dns.RR, name string) bool {
	for _, rr := range ns {
		if rr.Header().Rrtype == dns.TypeSOA && dns.IsSubDomain(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

// referralZone returns the child zone a referral points to: the owner of
// NS records in the authority section of a non-authoritative reply, strictly
// below the zone asked (anything else would send the walk sideways or up).
func referralZone(m *dns.Msg, zone string) string {
	if m.Authoritative || len(m.Answer) > 0 {
		return ""
	}
	for _, rr := range m.Ns {
		owner := dns.CanonicalName(rr.Header().Name)
		if rr.Header().Rrtype == dns.TypeNS && owner != zone && dns.IsSubDomain(zone, owner) {
			return owner
		}
	}
	return ""
}

// dataOf returns the records of type qtype owned by name.
func dataOf(rrs []dns.RR, name string, qtype uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == qtype && dns.CanonicalName(rr.Header().Name) == name {
			out = append(out, rr)
		}
	}
	return out
}

// referral prints a referral, with the DS records that link the child's
// keys to the parent's, and moves to the child zone's servers.
func (w *walker) referral(ctx context.Context, st *walkState) (walkStep, error) {
	m := st.reply
	child := referralZone(m, st.zone)
	var ns []dns.RR
	var names []string
	for _, rr := range m.Ns {
		if n, ok := rr.(*dns.NS); ok && dns.CanonicalName(n.Header().Name) == child {
			ns = append(ns, rr)
			names = append(names, dns.CanonicalName(n.Ns))
		}
	}
	w.say(st, "Reply: a referral (%s, not authoritative, no answer records).", dns.RcodeToString[m.Rcode])
	w.say(st, "This server does not have the answer, but knows who does: %s is delegated to", child)
	w.records(st, ns)
	var glue []dns.RR
	var servers []demoServer
	for _, name := range names {
		for _, rr := range m.Extra {
			if ip, ok := addrOf(rr); ok && dns.CanonicalName(rr.Header().Name) == name {
				glue = append(glue, rr)
				servers = append(servers, demoServer{name: name, addr: ip})
			}
		}
	}
	if len(servers) > 0 {
		w.say(st, "and it gives their addresses too (glue), so we can ask them next:")
		w.records(st, glue)
	}
	w.delegationSecurity(st, child)
	if err := w.keys(ctx, st); err != nil {
		return stepDone, err
	}
	st.zone, st.nsNames = child, names
	if len(servers) == 0 {
		return stepGlueless, nil
	}
	st.servers = servers
	return stepAsk, nil
}

// delegationSecurity prints the DS records of child that a referral
// carries (the parent's word for the child's key) or says that the
// parent proved there are none (an insecure delegation), and keeps the DS
// to check the child's keys against.
func (w *walker) delegationSecurity(st *walkState, child string) {
	m := st.reply
	var ds, sigs []dns.RR
	denied := false
	if w.ds == nil {
		w.ds = map[string][]*dns.DS{}
	}
	for _, rr := range m.Ns {
		switch rr := rr.(type) {
		case *dns.DS:
			if dns.CanonicalName(rr.Hdr.Name) == child {
				ds = append(ds, rr)
				w.ds[child] = append(w.ds[child], rr)
			}
		case *dns.RRSIG:
			if rr.TypeCovered == dns.TypeDS {
				sigs = append(sigs, rr)
			}
		case *dns.NSEC, *dns.NSEC3:
			denied = true
		}
	}
	switch {
	case len(ds) > 0:
		w.say(st, "DNSSEC: %s is signed. Its DS record, a hash of its key-signing key (KSK), comes with", child)
		w.say(st, "the referral, signed by %s: the parent's word for which key the child may sign with.", zoneLabel(st.zone))
		w.records(st, append(ds, sigs...))
	case denied:
		w.say(st, "DNSSEC: no DS for %s, and signed NSEC records prove there is none: the child is", child)
		w.say(st, "unsigned (an insecure delegation), and its answers can only be Insecure.")
	default:
		w.say(st, "DNSSEC: no DS for %s and no proof either way: %s is not signed.", child, zoneLabel(st.zone))
	}
}

// keys asks the server that just replied for the DNSKEY RRset of its
// zone, once per zone, and says which key the DS above it (or, for the
// root, the trust anchor) vouches for.
func (w *walker) keys(ctx context.Context, st *walkState) error {
	if w.keyed == nil {
		w.keyed = map[string]bool{}
	}
	if w.keyed[st.zone] {
		return nil
	}
	w.keyed[st.zone] = true
	if w.queries+w.keyQueries >= demoMaxQueries {
		return fmt.Errorf("gave up after %d queries", w.queries+w.keyQueries)
	}
	w.keyQueries++
	reply, _, err := w.exchange(ctx, st.server, st.zone, dns.TypeDNSKEY)
	if err != nil {
		w.say(st, "(no reply to the query for the keys of %s: %v)", zoneLabel(st.zone), err)
		return nil
	}
	var keys []*dns.DNSKEY
	for _, rr := range reply.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok && dns.CanonicalName(k.Hdr.Name) == st.zone {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		w.say(st, "DNSSEC: %s publishes no keys (DNSKEY): it is not signed.", zoneLabel(st.zone))
		return nil
	}
	vouch, by := w.ds[st.zone], "the DS in its parent"
	if st.zone == "." {
		vouch, by = w.anchor, "the trust anchor"
	}
	w.say(st, "DNSSEC: the keys of %s (its DNSKEY RRset, asked of the same server):", zoneLabel(st.zone))
	for _, k := range keys {
		role := "ZSK (zone-signing key): signs the zone's other records"
		if k.Flags&dns.SEP != 0 {
			role = "KSK (key-signing key): signs the DNSKEY RRset"
			if dsMatches(vouch, k) {
				role += "; matches " + by
			}
		}
		w.say(st, "  key %d, %s, %s", k.KeyTag(), dns.AlgorithmToString[k.Algorithm], role)
	}
	return nil
}

// dsMatches reports whether one of ds is a digest of key.
func dsMatches(ds []*dns.DS, key *dns.DNSKEY) bool {
	for _, d := range ds {
		if d.KeyTag != key.KeyTag() || d.Algorithm != key.Algorithm {
			continue
		}
		if own := key.ToDS(d.DigestType); own != nil && strings.EqualFold(own.Digest, d.Digest) {
			return true
		}
	}
	return false
}

// zoneLabel names a zone for the reader: "the root" for ".".
func zoneLabel(zone string) string {
	if zone == "." {
		return "the root"
	}
	return zone
}

// glueless resolves the address of a server named in a referral that
// came without glue, with a walk of its own from the root.
func (w *walker) glueless(ctx context.Context, st *walkState) (walkStep, error) {
	if st.depth+1 > demoMaxDepth {
		return stepDone, fmt.Errorf("too many nested lookups of server names below %s", st.zone)
	}
	w.say(st, "No glue came with it: the servers' names are in other zones, so this server")
	w.say(st, "does not hold their addresses, and we must look them up ourselves.")
	for _, name := range st.nsNames {
		w.say(st, "First find the address of %s, with a walk of its own from the root:", name)
		res, err := w.resolve(ctx, name, dns.TypeA, st.depth+1)
		if err != nil {
			return stepDone, err
		}
		var found []demoServer
		for _, rr := range res.data {
			if ip, ok := addrOf(rr); ok {
				found = append(found, demoServer{name: name, addr: ip})
			}
		}
		if len(found) > 0 {
			st.servers = found
			w.say(st, "Back to %s %s, now asking %s.", st.qname, dns.TypeToString[st.qtype], st.servers[0])
			return stepAsk, nil
		}
		w.say(st, "%s has no address; trying the next name.", name)
	}
	return stepDone, fmt.Errorf("no server of %s has an address", st.zone)
}

// alias starts the walk again at the root for the target of a CNAME.
func (w *walker) alias(st *walkState) (walkStep, error) {
	st.aliases++
	if st.aliases > demoMaxAliases {
		return stepDone, fmt.Errorf("more than %d CNAMEs", demoMaxAliases)
	}
	w.say(st, "%s is in another zone: start again from the root for it", st.qname)
	w.say(st, "(a resolver would skip the steps it has in its cache; this walk has none).")
	st.zone, st.servers = ".", w.roots
	return stepAsk, nil
}
