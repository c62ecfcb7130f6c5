package lab

import (
	"context"
	"net/netip"
	"sync"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/testbed"
)

// dnssecScenario is the on-path tamperer: someone between the resolver
// and the authoritative server (a hostile network, a compromised
// router) rewrites an address in a genuine reply. Nothing in the packet
// tells an unvalidating resolver; the signature no longer matching tells
// a validating one.
type dnssecScenario struct{}

func (dnssecScenario) Name() string { return "dnssec" }

func (dnssecScenario) Summary() string {
	return "an on-path tamperer rewrites an A record: accepted without validation, SERVFAIL + EDE with it"
}

// Run asks for www.example.test. through the tamperer, without and with
// validation.
func (dnssecScenario) Run(ctx context.Context, env *Env, out Narrator) (Report, error) {
	var rep Report
	if err := env.checkAddrs(env.Addrs.Attacker); err != nil {
		return rep, err
	}
	for _, validating := range []bool{false, true} {
		set, err := dnssecSetting(ctx, env, validating, out)
		if err != nil {
			return rep, err
		}
		rep.Settings = append(rep.Settings, set)
	}
	return rep, nil
}

// tamperer rewrites, in every reply from example.test.'s server, the
// address of www.example.test. to the attacker's, keeping everything
// else, signatures included.
type tamperer struct {
	real     resolver.ExchangeFunc
	target   netip.Addr
	attacker netip.Addr
	mu       sync.Mutex // guards rewritten
	// rewritten counts the replies changed.
	rewritten int
}

func (t *tamperer) exchange(ctx context.Context, srv netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
	r, err := t.real(ctx, srv, m, tcp)
	if err != nil || srv.Addr() != t.target {
		return r, err
	}
	changed := false
	r = r.Copy() // never change a reply in place
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && dns.CanonicalName(a.Hdr.Name) == "www.example.test." {
			a.A = t.attacker.AsSlice()
			changed = true
		}
	}
	if changed {
		t.mu.Lock()
		t.rewritten++
		t.mu.Unlock()
	}
	return r, nil
}

// recordingValidator is the resolver's validator, keeping the steps of
// the last verdict for the chain table.
type recordingValidator struct {
	v    *validate.Validator
	mu   sync.Mutex // guards last
	last validate.Verdict
}

func (rv *recordingValidator) Validate(ctx context.Context, q dns.Question, fetch validate.Fetch) validate.Verdict {
	vd := rv.v.Validate(ctx, q, fetch)
	rv.mu.Lock()
	rv.last = vd
	rv.mu.Unlock()
	return vd
}

// dnssecSetting runs one setting on a fresh signed hierarchy.
func dnssecSetting(ctx context.Context, env *Env, validating bool, out Narrator) (Setting, error) {
	set := Setting{Name: "resolver without DNSSEC validation", Defence: validating}
	if validating {
		set.Name = "rensa resolver validating (the default)"
	}
	out.Section(set.Name)
	n, err := startNetWith(ctx, env, testbed.Config{Zones: labZones(true), Signed: true})
	if err != nil {
		return set, err
	}
	defer n.close()
	t := &tamperer{real: n.exchange(), target: netip.MustParseAddr(exampleServer), attacker: env.Addrs.Attacker}
	cfg := resolver.Config{Exchange: t.exchange}
	var rv *recordingValidator
	if validating {
		v, err := n.validator()
		if err != nil {
			return set, err
		}
		rv = &recordingValidator{v: v}
		cfg.Validator = rv
	}
	r, err := n.resolver(cfg)
	if err != nil {
		return set, err
	}
	out.Step("example.test. is signed, its DS is in test., test.'s in the root; the resolver %s.", map[bool]string{false: "does not validate", true: "trusts the lab root's key and validates"}[validating])
	out.Step("The client asks the resolver for www.example.test. A; the resolver walks root -> test. -> example.test.")
	res := r.Resolve(ctx, "www.example.test.", dns.TypeA)
	t.mu.Lock()
	rewritten := t.rewritten
	t.mu.Unlock()
	out.Step("On the path back from ns1.example.test. the tamperer rewrites www.example.test. A 192.0.2.10 to %s, RRSIG untouched (%d replies rewritten).", env.Addrs.Attacker, rewritten)
	got := firstA(res.Answer)
	ede := ""
	if res.EDE != nil {
		ede = dns.ExtendedErrorCodeToString[res.EDE.InfoCode] + ": " + res.EDE.ExtraText
	}
	if validating {
		out.Step("The validator checks the chain from the trust anchor down:")
		rv.mu.Lock()
		for _, s := range rv.last.Steps {
			verdict := "ok"
			if s.Err != "" {
				verdict = "FAILS: " + s.Err
			}
			out.Note("%-14s %-36s %-34s %s", s.Zone, s.Key, s.Verifies, verdict)
		}
		rv.mu.Unlock()
	}
	out.Step("The client gets %s %s%s.", dns.RcodeToString[res.Rcode], orNone(got), edeText(ede))
	set.AttackSucceeded = got == env.Addrs.Attacker.String()
	set.add("replies rewritten on the path", float64(rewritten), "")
	set.add("client got the forged address", boolFigure(set.AttackSucceeded), "")
	set.add("client got SERVFAIL", boolFigure(res.Rcode == dns.RcodeServerFailure), "")
	if res.EDE != nil {
		set.add("Extended DNS Error code", float64(res.EDE.InfoCode), "")
	}
	return set, nil
}

// orNone shows an address, or nothing.
func orNone(a string) string {
	if a == "" {
		return "(no address)"
	}
	return a
}

// edeText shows an Extended DNS Error in parentheses.
func edeText(s string) string {
	if s == "" {
		return ""
	}
	return " with Extended DNS Error " + s
}
