package resolver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/transport"
)

// The replay runner plays Unbound testbound and Deckard scenario files
// (../../../shared/conformance/unbound/FORMAT-replay.txt and
// deckard/scenario_guide.rst) against the resolver: the RANGE entries
// become the upstream network (Config.Exchange), the STEPs are client
// queries and checks, the clock is fixed and moves only with TIME_PASSES,
// and nothing leaves the process. Scenarios with a trust-anchor run with
// the Validator. Scenarios that need what the resolver does not have
// (forwarding and stub zones in the scenario's config, Knot Resolver
// modules, scripted out-queries, raw packets) are skipped with the reason.

// rplEntry is one ENTRY_BEGIN ... ENTRY_END block.
type rplEntry struct {
	match  map[string]bool
	adjust map[string]bool
	msg    *dns.Msg
}

// rplRange is one RANGE_BEGIN block: entries answering between two steps,
// from some addresses (all when none is given).
type rplRange struct {
	from, to int
	addrs    []netip.Addr
	entries  []*rplEntry
}

// rplStep is one STEP.
type rplStep struct {
	n     int
	kind  string
	arg   string
	entry *rplEntry
}

// rplScenario is a parsed scenario file.
type rplScenario struct {
	hints  []netip.Addr
	noQmin bool
	noIPv6 bool
	skip   string // why the scenario cannot run, or ""
	ranges []*rplRange
	steps  []rplStep

	// anchors are the trust-anchor: lines (DS or DNSKEY records), and
	// valDate the val-override-date: the validator's clock at the start.
	anchors []string
	valDate time.Time
}

// parseRPL reads a scenario file.
func parseRPL(path string) (*rplScenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := &rplScenario{}
	var (
		rng     *rplRange
		entry   *rplEntry
		section int
		inConf  = true
		inStub  = false
		origin  = "."
		lineNo  = 0
		pending *rplStep
	)
	lines := bufio.NewScanner(f)
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		lineNo++
		line := stripComment(lines.Text())
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if inConf {
			inConf, inStub = sc.configLine(fields, inStub)
			continue
		}
		switch kw := fields[0]; {
		case kw == "$ORIGIN" && len(fields) > 1:
			origin = dns.Fqdn(fields[1])
		case kw == "RANGE_BEGIN" && len(fields) >= 3:
			rng = &rplRange{}
			rng.from, _ = strconv.Atoi(fields[1])
			rng.to, _ = strconv.Atoi(fields[2])
		case kw == "RANGE_END":
			sc.ranges = append(sc.ranges, rng)
			rng = nil
		case kw == "ADDRESS" && rng != nil && entry == nil && len(fields) > 1:
			if a, err := netip.ParseAddr(fields[1]); err == nil {
				rng.addrs = append(rng.addrs, a)
			}
		case kw == "STEP" && len(fields) >= 3:
			n, _ := strconv.Atoi(fields[1])
			st := rplStep{n: n, kind: fields[2], arg: strings.Join(fields[3:], " ")}
			switch st.kind {
			case "QUERY", "CHECK_ANSWER":
				pending = &st
			case "TIME_PASSES", "NOTHING", "TRAFFIC", "INFRA_RTT":
				sc.steps = append(sc.steps, st)
			default:
				sc.skipf("STEP %s is not supported", st.kind)
			}
		case kw == "ENTRY_BEGIN":
			entry = &rplEntry{match: map[string]bool{}, adjust: map[string]bool{}, msg: new(dns.Msg)}
			section = -1
		case kw == "ENTRY_END":
			switch {
			case pending != nil:
				pending.entry = entry
				sc.steps = append(sc.steps, *pending)
				pending = nil
			case rng != nil:
				rng.entries = append(rng.entries, entry)
			}
			entry = nil
		case entry == nil:
			// SCENARIO_BEGIN, SCENARIO_END and the like.
		default:
			if err := entryLine(entry, fields, line, &section, origin); errors.Is(err, errUnrepresentable) {
				sc.skipf("%v", err)
			} else if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, lineNo, err)
			}
			if fields[0] == "HEX_ANSWER_BEGIN" || fields[0] == "RAW" || fields[0] == "HEX_EDNSDATA_BEGIN" {
				sc.skipf("%s (raw packets) is not supported", fields[0])
			}
		}
	}
	if len(sc.hints) == 0 && sc.skip == "" {
		sc.skipf("no root stub address")
	}
	return sc, lines.Err()
}

func (sc *rplScenario) skipf(format string, args ...any) {
	if sc.skip == "" {
		sc.skip = fmt.Sprintf(format, args...)
	}
}

// configLine reads one line of the configuration part; it reports whether
// the configuration goes on and whether a stub-zone for the root is open.
func (sc *rplScenario) configLine(f []string, inStub bool) (bool, bool) {
	val := ""
	if len(f) > 1 {
		val = strings.Trim(f[1], `"`)
	}
	switch f[0] {
	case "CONFIG_END":
		return false, false
	case "stub-zone:", "server:":
		return true, f[0] == "stub-zone:"
	case "name:":
		if inStub && val != "." {
			sc.skipf("stub zone %s is not supported", val)
		}
	case "stub-addr:":
		if a, err := netip.ParseAddr(strings.Split(val, "@")[0]); err == nil {
			sc.hints = append(sc.hints, a)
		}
	case "do-ip6:":
		sc.noIPv6 = val == "no"
	case "qname-minimisation:", "query-minimization:":
		sc.noQmin = val == "no" || val == "off"
	case "forward-zone:", "forward-addr:", "stub-name:", "stub-host:", "auth-zone:", "local-zone:":
		sc.skipf("%s is not supported", f[0])
	case "harden-glue:", "iter-scrub-promiscuous:":
		if f[0] == "harden-glue:" && val == "no" || f[0] == "iter-scrub-promiscuous:" && val == "yes" {
			sc.skipf("%s %s: rensa never trusts out-of-bailiwick data", f[0], val)
		}
	case "trust-anchor:":
		text := strings.Join(f[1:], " ")
		if i, j := strings.Index(text, `"`), strings.LastIndex(text, `"`); i >= 0 && j > i {
			text = text[i+1 : j]
		}
		sc.anchors = append(sc.anchors, text)
		// DSA anchors skip the scenario; no replay-only switch makes the
		// Validator accept DSA. Decided for issue #5 because (1) the
		// switch would have to be a verification hook in the Validator's
		// non-test code (validate and dnssec are what the resolver
		// links; a _test.go file of package resolver cannot reach their
		// internals), a path by which a validator could be made to
		// accept an algorithm RFC 8624 §3.1 says it MUST NOT; and (2) a
		// throwaway prototype of it (crypto/dsa; Unbound's scenarios sign
		// in DER, not RFC 2536's T|R|S) measured what it would buy:
		// unbound/val 58 of 90 run pass relaxed, the validator sets
		// together 127 of 169 (75%), below the 80% target. Most failures
		// it added are Unbound's own choices, not DSA or proof logic: 11
		// scenarios ask RD=0 questions Unbound answers from its cache
		// (rensa refuses them, EDE 21), others send a NODATA without a
		// SOA, which rensa's iterator takes for a lame reply. The proof
		// logic those scenarios exercise is covered by the RSA and ECDSA
		// scenarios and the validate tests.
		if rr, err := dns.NewRR("$TTL 3600\n" + text); err == nil && anchorAlgorithm(rr) == dns.DSA {
			sc.skipf("DSA (algorithm 3) anchor: RFC 8624 §3.1 says validators MUST NOT validate DSA")
		}
	case "val-override-date:":
		if d, err := time.Parse("20060102150405", val); err == nil {
			sc.valDate = d
		} else {
			sc.skipf("val-override-date: %s (no signature time checks) is not supported", val)
		}
	case "val-override-timestamp:":
		// Deckard's form of val-override-date: POSIX seconds.
		if secs, err := strconv.ParseInt(val, 10, 64); err == nil {
			sc.valDate = time.Unix(secs, 0)
		}
	case "features:", "feature-list:":
		// Deckard's module_* scenarios configure Knot Resolver modules
		// (policy, DNS64, renumbering, static hints): not rensa's.
		sc.skipf("Knot Resolver module configuration (%s) is not supported", f[0])
	case "trust-anchor-file:", "auto-trust-anchor-file:", "domain-insecure:":
		sc.skipf("%s is not supported", f[0])
	}
	return true, inStub
}

// entryLine reads one line inside an entry.
func entryLine(e *rplEntry, f []string, line string, section *int, origin string) error {
	switch f[0] {
	case "MATCH":
		for _, w := range f[1:] {
			e.match[w] = true
		}
	case "ADJUST":
		for _, w := range f[1:] {
			e.adjust[w] = true
		}
	case "REPLY":
		for _, w := range f[1:] {
			replyWord(e.msg, w)
		}
	case "SECTION":
		*section = map[string]int{"QUESTION": 0, "ANSWER": 1, "AUTHORITY": 2, "ADDITIONAL": 3}[f[1]]
	case "HEX_ANSWER_BEGIN", "HEX_ANSWER_END", "RAW", "EXTRA_PACKET", "HEX_EDNSDATA_BEGIN", "HEX_EDNSDATA_END":
	default:
		if *section < 0 {
			return nil // hex data and the like
		}
		return entryRR(e.msg, *section, line, origin)
	}
	return nil
}

// replyWord applies one word of a REPLY line: a flag or an rcode.
func replyWord(m *dns.Msg, w string) {
	switch w {
	case "QR":
		m.Response = true
	case "AA":
		m.Authoritative = true
	case "TC":
		m.Truncated = true
	case "RD":
		m.RecursionDesired = true
	case "RA":
		m.RecursionAvailable = true
	case "AD":
		m.AuthenticatedData = true
	case "CD":
		m.CheckingDisabled = true
	case "DO":
		m.SetEdns0(4096, true)
	case "NOTIMPL":
		m.Rcode = dns.RcodeNotImplemented
	default:
		if rc, ok := dns.StringToRcode[w]; ok {
			m.Rcode = rc
		}
	}
}

// entryRR adds a question or record line to section s of m.
func entryRR(m *dns.Msg, s int, line, origin string) error {
	if s == 0 {
		f := strings.Fields(line)
		q := dns.Question{Name: dns.Fqdn(f[0]), Qclass: dns.ClassINET}
		for _, w := range f[1:] {
			if t, ok := dns.StringToType[strings.ToUpper(w)]; ok {
				q.Qtype = t
			} else if c, ok := dns.StringToClass[strings.ToUpper(w)]; ok {
				q.Qclass = c
			}
		}
		m.Question = append(m.Question, q)
		return nil
	}
	// Scenario files indent records; in master-file syntax a leading
	// blank would mean "the previous owner".
	zp := dns.NewZoneParser(strings.NewReader(strings.TrimSpace(line)), origin, "")
	zp.SetDefaultTTL(3600)
	rr, ok := zp.Next()
	if !ok {
		if err := zp.Err(); err != nil {
			return err
		}
		return nil
	}
	sortBitmap(rr)
	if err := checkGenericLength(rr, line); err != nil {
		return err
	}
	switch s {
	case 1:
		m.Answer = append(m.Answer, rr)
	case 2:
		m.Ns = append(m.Ns, rr)
	default:
		m.Extra = append(m.Extra, rr)
	}
	return nil
}

// errUnrepresentable marks a scenario record that a miekg/dns message
// cannot carry as the scenario wrote it.
var errUnrepresentable = errors.New("record cannot be represented")

// checkGenericLength refuses a record written in RFC 3597's generic form
// ("\# 5 0102030405") whose data does not fit its type: the scenario
// means the malformed bytes on the wire (Unbound's val_scrub_rr_length),
// but miekg/dns parses the record as its type and would send a different,
// well-formed one.
func checkGenericLength(rr dns.RR, line string) error {
	f := strings.Fields(line)
	i := slices.Index(f, `\#`)
	if i < 0 || i+1 >= len(f) {
		return nil
	}
	declared, err := strconv.Atoi(f[i+1])
	if err != nil {
		return nil
	}
	buf := make([]byte, dns.MaxMsgSize)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return fmt.Errorf("%w: %v", errUnrepresentable, err)
	}
	nameEnd, err := dns.PackDomainName(rr.Header().Name, buf, 0, nil, false)
	if err != nil {
		return fmt.Errorf("%w: %v", errUnrepresentable, err)
	}
	if got := end - nameEnd - 10; got != declared {
		return fmt.Errorf("%w: %s data of %d octets, %d as %s", errUnrepresentable, dns.TypeToString[rr.Header().Rrtype], declared, got,
			"miekg/dns packs it (RFC 3597 data the wrong size for its type)")
	}
	return nil
}

// stripComment drops a ";" comment that is not inside quotes.
func stripComment(s string) string {
	quoted := false
	for i, c := range s {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ';' && !quoted:
			return s[:i]
		}
	}
	return s
}

// replay runs a scenario. It returns whether each check passed strictly
// (rcode, flags, every section) and relaxed (rcode, AD, answer), with the
// first failure's reason.
func (sc *rplScenario) replay() (strict, relaxed bool, reason string) {
	var mu sync.Mutex // guards now and step
	now, step := time.Unix(1500000000, 0), 0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	exchange := func(ctx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
		mu.Lock()
		at := step
		mu.Unlock()
		if r := sc.answer(at, server.Addr(), m, tcp); r != nil {
			return r, nil
		}
		return nil, fmt.Errorf("%w: no entry answers %s %s", transport.ErrTimeout, server.Addr(), m.Question[0].String())
	}
	hints := Hints{NS: []string{"root.hint."}, Addrs: map[string][]netip.Addr{"root.hint.": sc.hints}}
	// A fixed random stream: the same server order on every run.
	cfg := Config{Hints: hints, Exchange: exchange, Now: clock, Rand: rand.NewChaCha8([32]byte{'r', 'e', 'n', 's', 'a'}),
		No0x20: true, NoQNAMEMinimisation: sc.noQmin, NoIPv6: sc.noIPv6}
	if os.Getenv("REPLAY_TRACE") != "" {
		cfg.Trace = func(tr Transition) { fmt.Println(tr) }
	}
	if len(sc.anchors) > 0 {
		v, err := sc.validator(clock)
		if err != nil {
			return false, false, err.Error()
		}
		cfg.Validator = v
	}
	r, err := New(cfg)
	if err != nil {
		return false, false, err.Error()
	}
	r.attemptTime = 50 * time.Millisecond
	var answers []*dns.Msg
	strict, relaxed = true, true
	for _, st := range sc.steps {
		mu.Lock()
		step = st.n
		mu.Unlock()
		switch st.kind {
		case "QUERY":
			q := st.entry.msg.Copy()
			q.Response = false
			w := &recorder{network: "udp"}
			if st.entry.match["TCP"] {
				w.network = "tcp"
			}
			r.ServeDNS(w, q)
			answers = append(answers, w.msg)
		case "CHECK_ANSWER":
			if len(answers) == 0 {
				return false, false, fmt.Sprintf("step %d: no answer to check", st.n)
			}
			got := answers[0]
			answers = answers[1:]
			s, rl, why := checkRPL(st.entry, got)
			// The reason given is the first relaxed failure's, else the
			// first strict one's.
			if !s && (reason == "" || relaxed && !rl) {
				reason = fmt.Sprintf("step %d: %s", st.n, why)
			}
			strict, relaxed = strict && s, relaxed && rl
		case "TIME_PASSES":
			f := strings.Fields(st.arg)
			if len(f) == 2 && f[0] == "ELAPSE" {
				secs, _ := strconv.ParseFloat(f[1], 64)
				mu.Lock()
				now = now.Add(time.Duration(secs * float64(time.Second)))
				mu.Unlock()
			}
		}
	}
	return strict, relaxed, reason
}

// answer finds the first entry of a range active at step, for server,
// whose MATCH fits m, and builds its reply.
func (sc *rplScenario) answer(step int, server netip.Addr, m *dns.Msg, tcp bool) *dns.Msg {
	q := m.Question[0]
	for _, rng := range sc.ranges {
		if step < rng.from || step > rng.to || len(rng.addrs) > 0 && !slices.Contains(rng.addrs, server) {
			continue
		}
		for _, e := range rng.entries {
			if !e.matches(q, m, tcp) {
				continue
			}
			r := e.msg.Copy()
			r.Id = m.Id
			r.Response = true
			r.Question = []dns.Question{q} // a real server echoes the question
			return r
		}
	}
	return nil
}

func (e *rplEntry) matches(q dns.Question, m *dns.Msg, tcp bool) bool {
	if len(e.msg.Question) == 0 {
		return !e.match["qname"] && !e.match["qtype"] && !e.match["subdomain"] && !e.match["question"]
	}
	eq := e.msg.Question[0]
	question := e.match["question"] // Deckard: the whole question section
	switch {
	case (e.match["qtype"] || question) && eq.Qtype != q.Qtype,
		(e.match["qname"] || question) && !strings.EqualFold(eq.Name, q.Name),
		e.match["subdomain"] && !dns.IsSubDomain(strings.ToLower(eq.Name), strings.ToLower(q.Name)),
		e.match["TCP"] && !tcp, e.match["UDP"] && tcp,
		e.match["DO"] && (m.IsEdns0() == nil || !m.IsEdns0().Do()),
		e.match["noedns"] && m.IsEdns0() != nil:
		return false
	}
	return true
}

// checkRPL compares a reply with a CHECK_ANSWER entry: strictly (rcode,
// flags, all sections) and relaxed (rcode, AD flag, answer section). A
// MATCH line naming sections or fields (Deckard's "flags rcode question
// answer") limits the comparison to those, as the scenario asks; "all"
// and a MATCH naming none compare everything.
func checkRPL(e *rplEntry, got *dns.Msg) (strict, relaxed bool, why string) {
	if got == nil {
		return false, false, "no reply"
	}
	all := e.match["all"] || e.match["all_noedns"]
	named := false
	for _, f := range []string{"rcode", "flags", "question", "answer", "authority", "additional"} {
		named = named || e.match[f]
	}
	checks := func(field string) bool { return all || !named || e.match[field] }
	listed := func(field string) bool { return all || e.match[field] }
	want := e.msg
	var errs []error
	if checks("rcode") && got.Rcode != want.Rcode {
		errs = append(errs, fmt.Errorf("rcode %s, want %s%s", dns.RcodeToString[got.Rcode], dns.RcodeToString[want.Rcode], edeText(got)))
	}
	if checks("flags") && got.AuthenticatedData != want.AuthenticatedData {
		errs = append(errs, fmt.Errorf("AD %v, want %v", got.AuthenticatedData, want.AuthenticatedData))
	}
	if d := sectionDiff(got.Answer, want.Answer); checks("answer") && d != "" {
		errs = append(errs, fmt.Errorf("answer: %s", d))
	}
	relaxed = len(errs) == 0
	if d := sectionDiff(got.Ns, want.Ns); listed("authority") && d != "" {
		errs = append(errs, fmt.Errorf("authority: %s", d))
	}
	if d := sectionDiff(withoutOPT(got.Extra), withoutOPT(want.Extra)); listed("additional") && d != "" {
		errs = append(errs, fmt.Errorf("additional: %s", d))
	}
	if listed("flags") && (got.Authoritative != want.Authoritative || got.RecursionAvailable != want.RecursionAvailable ||
		got.RecursionDesired != want.RecursionDesired) {
		errs = append(errs, fmt.Errorf("flags AA %v RA %v RD %v, want %v %v %v", got.Authoritative, got.RecursionAvailable,
			got.RecursionDesired, want.Authoritative, want.RecursionAvailable, want.RecursionDesired))
	}
	if len(errs) == 0 {
		return true, true, ""
	}
	return false, relaxed, errText(errs)
}

// edeText returns the Extended DNS Error of m as " (EDE n: text)", or
// "": the validator's reason for a SERVFAIL.
func edeText(m *dns.Msg) string {
	opt := m.IsEdns0()
	if opt == nil {
		return ""
	}
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_EDE); ok {
			return fmt.Sprintf(" (EDE %d: %s)", e.InfoCode, e.ExtraText)
		}
	}
	return ""
}

func errText(errs []error) string {
	if err := errors.Join(errs...); err != nil {
		return strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	return ""
}

// sectionDiff compares two sections as sets of records, names in lower
// case and TTLs ignored; "" when equal.
func sectionDiff(got, want []dns.RR) string {
	norm := func(rrs []dns.RR) []string {
		var out []string
		for _, rr := range rrs {
			out = append(out, strings.ToLower(rr.Header().Name)+" "+normRdata(rr))
		}
		slices.Sort(out)
		return out
	}
	g, w := norm(got), norm(want)
	if slices.Equal(g, w) {
		return ""
	}
	return fmt.Sprintf("got %q, want %q", g, w)
}

func withoutOPT(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

// validatorSets are the scenario sets that exercise the validator, and
// validatorTargetPercent the share of those run that must pass relaxed
// (issue #5).
var validatorSets = []string{"deckard/resolver/val_*", "deckard/resolver/other", "unbound/val"}

const validatorTargetPercent = 80

// TestConformanceReplay replays the iterator and validator scenarios of
// Deckard and Unbound (or the directory in $REPLAY_DIR, printing each
// failure) and prints, per set, how many pass strictly and relaxed and
// how many are skipped and why, then the validator sets together against
// validatorTargetPercent. The failures and skips are written to
// testdata/replay-results.txt; the test fails if fewer pass relaxed than
// testdata/replay-baseline.txt records, or if the validator sets fall
// below the target.
func TestConformanceReplay(t *testing.T) {
	// Validator scenarios use RSA keys of 512 bits (RFC 5155's), which
	// crypto/rsa refuses by default.
	t.Setenv("GODEBUG", "rsa1024min=0")
	const deckard = "../../../shared/conformance/deckard/resolver/"
	sets := map[string][]string{
		"deckard/resolver/iter_*": {deckard + "iter_*.rpl"},
		"unbound/iter":            {"../../../shared/conformance/unbound/iter/*.rpl"},
		"deckard/resolver/val_*":  {deckard + "val_*.rpl"},
		"unbound/val":             {"../../../shared/conformance/unbound/val/*.rpl"},
		// The rest of Deckard's resolver scenarios: aggressive NSEC and
		// NSEC3, proofs, blacklies, forwarding, modules, captured zones.
		"deckard/resolver/other": {deckard + "nsec*.rpl", deckard + "black_*.rpl", deckard + "fwd_*.rpl",
			deckard + "module_*.rpl", deckard + "world_*.rpl"},
	}
	if dir := os.Getenv("REPLAY_DIR"); dir != "" {
		sets = map[string][]string{dir: {filepath.Join(dir, "*.rpl")}}
	}
	var report strings.Builder
	baseline := readBaseline(t)
	var valRan, valRelaxed int // over validatorSets
	for _, name := range slices.Sorted(mapKeysOf(sets)) {
		var files []string
		for _, pattern := range sets[name] {
			more, _ := filepath.Glob(pattern)
			files = append(files, more...)
		}
		if len(files) == 0 {
			t.Logf("%s: no scenarios found", name)
			continue
		}
		var strict, relaxed, skipped int
		reasons := map[string]int{}
		for _, file := range files {
			sc, err := parseRPL(file)
			switch {
			case err != nil:
				skipped++
				reasons["parse error"]++
				fmt.Fprintf(&report, "%s: skip: %v\n", filepath.Base(file), err)
				continue
			case sc.skip != "":
				skipped++
				reasons[sc.skip]++
				fmt.Fprintf(&report, "%s: skip: %s\n", filepath.Base(file), sc.skip)
				continue
			}
			s, r, why := sc.replay()
			if s {
				strict++
			}
			if r {
				relaxed++
			}
			if !s {
				fmt.Fprintf(&report, "%s: %s: %s\n", filepath.Base(file), map[bool]string{true: "relaxed only", false: "FAIL"}[r], why)
			}
		}
		ran := len(files) - skipped
		t.Logf("%s: %d scenarios, %d skipped; of %d run: %d pass strictly, %d relaxed (%.0f%%)",
			name, len(files), skipped, ran, strict, relaxed, 100*float64(relaxed)/float64(max(ran, 1)))
		for _, why := range slices.Sorted(mapKeysOf(reasons)) {
			t.Logf("  skipped %d: %s", reasons[why], why)
		}
		if slices.Contains(validatorSets, name) {
			valRan, valRelaxed = valRan+ran, valRelaxed+relaxed
		}
		if min, ok := baseline[name]; ok && relaxed < min {
			t.Errorf("%s: %d scenarios pass relaxed, fewer than the %d recorded in testdata/replay-baseline.txt", name, relaxed, min)
		}
	}
	if os.Getenv("REPLAY_DIR") != "" {
		t.Log("\n" + report.String())
	} else {
		pct := 100 * float64(valRelaxed) / float64(max(valRan, 1))
		t.Logf("validator scenarios (%s): %d of %d run pass relaxed (%.1f%%), target %d%%",
			strings.Join(validatorSets, ", "), valRelaxed, valRan, pct, validatorTargetPercent)
		if pct < validatorTargetPercent {
			t.Errorf("validator scenarios pass %.1f%%, below the %d%% target", pct, validatorTargetPercent)
		}
		if err := os.WriteFile("testdata/replay-results.txt", []byte(report.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// readBaseline reads "SET COUNT" lines: the relaxed passes recorded.
func readBaseline(t *testing.T) map[string]int {
	out := map[string]int{}
	data, err := os.ReadFile("testdata/replay-baseline.txt")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(stripComment(strings.ReplaceAll(line, "#", ";")))
		if len(f) == 2 {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("replay-baseline.txt: %q", line)
			}
			out[f[0]] = n
		}
	}
	return out
}

func mapKeysOf[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// validator returns the validator of a scenario with trust anchors: its
// clock is val-override-date moved on as the replay clock moves.
func (sc *rplScenario) validator(clock func() time.Time) (*validate.Validator, error) {
	anchors, err := validate.ParseAnchors(strings.NewReader("$TTL 3600\n"+strings.Join(sc.anchors, "\n")+"\n"), "trust-anchor")
	if err != nil {
		return nil, err
	}
	start := clock()
	now := clock
	if !sc.valDate.IsZero() {
		now = func() time.Time { return sc.valDate.Add(clock().Sub(start)) }
	}
	return validate.New(validate.Config{Anchors: anchors, Now: now})
}

// sortBitmap sorts the type bitmap of an NSEC or NSEC3 record: scenario
// files list types in any order, but on the wire a bitmap is always
// sorted, and miekg/dns cannot pack (or verify) an unsorted one.
func sortBitmap(rr dns.RR) {
	switch rr := rr.(type) {
	case *dns.NSEC:
		slices.Sort(rr.TypeBitMap)
	case *dns.NSEC3:
		slices.Sort(rr.TypeBitMap)
	}
}

// anchorAlgorithm returns the DNSSEC algorithm of a DS or DNSKEY anchor.
func anchorAlgorithm(rr dns.RR) uint8 {
	switch rr := rr.(type) {
	case *dns.DS:
		return rr.Algorithm
	case *dns.DNSKEY:
		return rr.Algorithm
	}
	return 0
}
