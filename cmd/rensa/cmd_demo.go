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
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/testbed"
	"github.com/rensa-dns/rensa/internal/transport"
)

var _ = register(command{
	name:    "demo",
	summary: "walk a name down the testbed, root to answer, query by query",
	usage:   demoUsage,
	run:     demoMain,
})

const demoUsage = `usage: rensa demo [--port N] [NAME [TYPE]]

Start the testbed (see "rensa testbed") inside this process and resolve
NAME (default www.example.test) and TYPE (default A) by hand, the way a
resolver does, printing every query and reply:

  1. ask a root server (its address comes from the root hints);
  2. it does not know the answer but refers us to the servers of the TLD,
     giving their names (NS records) and addresses (glue);
  3. ask one of those, which refers us further down, and so on,
  4. until a server that is authoritative for the name answers.

A referral without glue is followed by first resolving a server's name
from the root; an alias (CNAME) to another zone by starting again from the
root for the target. Like "dig +trace", except that nothing leaves
loopback.

Then it starts rensa's resolver over the same testbed and asks it NAME
again, an alias to another zone (cross.example.test A) and a name that
does not exist (nosuch.example.test A), printing each resolution's steps
(cache, delegation, pick-server, send, reply, done), and NAME once more:
answered from the cache, without a single upstream query. Exits 1 if the
walk or a resolution fails.

Examples:
  rensa demo
  rensa demo www.glueless.test AAAA
  rensa demo www.legacy.example.test TXT

Flags:
`

// Bounds of the walk, so a broken hierarchy ends the demo instead of
// looping (the resolver's real limits are in its limits.go).
const (
	demoMaxQueries = 40              // queries in one demo
	demoMaxDepth   = 3               // nested walks for glueless server names
	demoMaxAliases = 8               // CNAMEs followed from the root
	demoTimeout    = 2 * time.Second // per query attempt
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

// runDemo starts the testbed and walks opts.name from the root.
func runDemo(ctx context.Context, opts demoOptions, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tb, err := testbed.Start(ctx, testbed.Config{Port: opts.port, Logger: logger})
	if err != nil {
		return err
	}
	defer tb.Close()
	roots, err := parseHints(tb.RootHints())
	if err != nil {
		return err
	}
	servers := tb.Servers()
	ports := "each on port 53 of its own address"
	if !strings.HasSuffix(servers[0].Addr, ":53") {
		ports = "not on port 53 (only root may bind it), so this demo maps the port 53 that glue implies to theirs"
	}
	fmt.Fprintf(stdout, ";; The testbed runs %d name servers on 127.53.0.0/16, %s.\n", len(servers), ports)
	fmt.Fprintf(stdout, ";; A resolver knows only the root servers, from its root hints:\n")
	for _, r := range roots {
		fmt.Fprintf(stdout, ";;   %s at %s\n", r.name, r.addr)
	}
	fmt.Fprintf(stdout, ";; Resolving %s %s from the root, one query at a time.\n", opts.name, dns.TypeToString[opts.qtype])

	w := &walker{out: stdout, roots: roots, dial: tb.Dial}
	res, err := w.resolve(ctx, opts.name, opts.qtype, 0)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	printSummary(stdout, opts, res, w.queries)
	return demoResolver(ctx, tb, opts, stdout)
}

// demoResolver resolves a few names with rensa's resolver over tb,
// printing each resolution's trace; the first name is asked again to show
// the cache.
func demoResolver(ctx context.Context, tb *testbed.Testbed, opts demoOptions, stdout io.Writer) error {
	hints, err := resolver.ParseHints(strings.NewReader(tb.RootHints()), "testbed root hints")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	r, err := resolver.New(resolver.Config{Hints: hints, Dial: tb.Dial})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(stdout, "\n;; Now the same with rensa's resolver (internal/resolver) over the same testbed:\n")
	fmt.Fprintf(stdout, ";; a state machine that asks one label more per zone (QNAME minimisation),\n")
	fmt.Fprintf(stdout, ";; randomises the case of names (0x20), and caches what it learns.\n")
	fmt.Fprintf(stdout, ";; Each reply line shows the question actually sent: minimised, in random case.\n")
	questions := []struct {
		name  string
		qtype uint16
		why   string
	}{
		{opts.name, opts.qtype, "the name walked above"},
		{"cross.example.test.", dns.TypeA, "an alias (CNAME) into another zone"},
		{"nosuch.example.test.", dns.TypeA, "a name that does not exist"},
		{opts.name, opts.qtype, "the first name again: now in the cache"},
	}
	for i, q := range questions {
		res := r.Resolve(ctx, q.name, q.qtype)
		fmt.Fprintf(stdout, "\n;; Resolution %d: %s %s (%s)\n", i+1, q.name, dns.TypeToString[q.qtype], q.why)
		printTrace(stdout, res.Trace)
		sends := 0
		for _, tr := range res.Trace {
			if tr.Step == "send" {
				sends++
			}
		}
		fmt.Fprintf(stdout, ";; Result: %s (%s) after %d upstream %s\n", dns.RcodeToString[res.Rcode], res.Kind, sends, plural(sends, "query", "queries"))
		for _, rr := range append(res.Answer, res.Authority...) {
			fmt.Fprintf(stdout, "%s\n", rr)
		}
		if res.Kind == resolver.KindServFail {
			why := ""
			if res.EDE != nil {
				why = ": " + res.EDE.ExtraText
			}
			return fmt.Errorf("demo: the resolver failed on %s %s%s", q.name, dns.TypeToString[q.qtype], why)
		}
		if i == len(questions)-1 && sends == 0 {
			fmt.Fprintf(stdout, ";; Answered from the cache: no upstream query.\n")
		}
	}
	return nil
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
		fmt.Fprintf(w, "%s\n", rr)
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
	out     io.Writer
	roots   []demoServer
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	queries int // sent so far, over all nested walks
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
			step = w.referral(st)
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

// records prints records indented for the walk's depth.
func (w *walker) records(st *walkState, rrs []dns.RR) {
	for _, rr := range rrs {
		fmt.Fprintf(w.out, "%s%s\n", strings.Repeat("    ", st.depth), rr)
	}
}

// ask sends the question to the first server that replies and classifies
// the reply.
func (w *walker) ask(ctx context.Context, st *walkState) (walkStep, error) {
	zoneName := st.zone
	if zoneName == "." {
		zoneName = "the root"
	}
	st.res.path = append(st.res.path, zoneName)
	for _, srv := range st.servers {
		if w.queries >= demoMaxQueries {
			return stepDone, fmt.Errorf("gave up after %d queries", w.queries)
		}
		w.queries++
		fmt.Fprintln(w.out)
		w.say(st, "Query %d: %s %s to %s, a server for %s", w.queries, st.qname, dns.TypeToString[st.qtype], srv, zoneName)
		reply, out, err := w.exchange(ctx, srv, st)
		if err != nil {
			w.say(st, "no reply: %v; trying the next server", err)
			continue
		}
		if out.Truncated {
			w.say(st, "the UDP reply was truncated (TC=1), so the query was repeated over TCP")
		}
		st.reply = reply
		return w.classify(st)
	}
	return stepDone, fmt.Errorf("no server for %s replied", zoneName)
}

// exchange sends one non-recursive query, as resolvers do to
// authoritative servers.
func (w *walker) exchange(ctx context.Context, srv demoServer, st *walkState) (*dns.Msg, transport.Outcome, error) {
	m := new(dns.Msg)
	m.SetQuestion(st.qname, st.qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
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
func (w *walker) classify(st *walkState) (walkStep, error) {
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
		return stepDone, nil
	case kindAlias:
		w.say(st, "Reply: an alias (CNAME) to a name in another zone (%s, %s).", rcode, aa)
		w.records(st, m.Answer)
		st.res.chain = append(st.res.chain, m.Answer...)
		st.qname = final
		return stepAlias, nil
	case kindReferral:
		return stepReferral, nil
	case kindNoData, kindNXDomain:
		w.negative(st, kind, rcode, aa)
		return stepDone, nil
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

// referral prints a referral and moves to the child zone's servers.
func (w *walker) referral(st *walkState) walkStep {
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
	st.zone, st.nsNames = child, names
	if len(servers) == 0 {
		return stepGlueless
	}
	w.say(st, "and it gives their addresses too (glue), so we can ask them next:")
	w.records(st, glue)
	st.servers = servers
	return stepAsk
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
