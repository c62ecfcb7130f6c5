package lab

import (
	"context"
	"encoding/hex"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/testbed"
)

// kaminsky is the Kaminsky attack (2008): make the resolver ask for
// names that do not exist, each a fresh race, and answer one of them
// with a reply whose authority section hands the whole zone to the
// attacker.
type kaminsky struct{}

func (kaminsky) Name() string { return "kaminsky" }

func (kaminsky) Summary() string {
	return "random names force recursion; forged replies carry a new delegation for example.test."
}

// Run runs the attack against the lab's 2008-style cache, then against
// rensa's resolver with its defaults; the DNSSEC setting waits for the
// validator.
func (kaminsky) Run(ctx context.Context, env *Env, out Narrator) (Report, error) {
	var rep Report
	if err := env.checkAddrs(env.Addrs.Attacker); err != nil {
		return rep, err
	}
	n, err := startNet(ctx, env, labZones(true))
	if err != nil {
		return rep, err
	}
	defer n.close()
	if _, err := n.serve(attackerServer(env.Addrs.Attacker), env.Addrs.Attacker); err != nil {
		return rep, err
	}
	attempts := kaminskyAttempts
	if env.Short {
		attempts = kaminskyShortAttempts
	}
	weak, err := kaminskyWeak(ctx, env, n, attempts, out)
	if err != nil {
		return rep, err
	}
	strong, err := kaminskyRensa(ctx, env, n, attempts, out)
	if err != nil {
		return rep, err
	}
	signed, err := kaminskyDNSSEC(ctx, env, attempts, out)
	if err != nil {
		return rep, err
	}
	rep.Settings = []Setting{weak, strong, signed}
	return rep, nil
}

// kaminskyForger sits where the attacker's packets meet the resolver: for
// each query for a random name sent to example.test.'s server it races
// the real answer, and wins one race in kaminskyRaceOdds; a won race
// delivers the forged reply as a perfectly matching one (same ID, same
// question, same case). The poisoning scenario measures what winning a
// race really takes.
type kaminskyForger struct {
	env      *Env
	real     resolver.ExchangeFunc
	target   netip.Addr // example.test.'s server
	attacker netip.Addr
	// answer makes the forged reply also answer the question itself,
	// so that a resolver without DNSSEC would serve it.
	answer bool
	races  atomic.Int64
	wins   atomic.Int64
}

func (f *kaminskyForger) exchange(ctx context.Context, srv netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
	if tcp || srv.Addr() != f.target || len(m.Question) != 1 || !strings.HasPrefix(strings.ToLower(m.Question[0].Name), "rand-") {
		return f.real(ctx, srv, m, tcp)
	}
	if err := f.env.spend(1); err != nil {
		return nil, err
	}
	if f.races.Add(1)%kaminskyRaceOdds != 0 {
		return f.real(ctx, srv, m, tcp) // the real answer arrived first
	}
	f.wins.Add(1)
	r := kaminskyReply(m, f.attacker)
	if f.answer {
		r.Answer = append([]dns.RR{mustRR(m.Question[0].Name + " 86400 IN A " + f.attacker.String())}, r.Answer...)
	}
	return r, nil
}

// kaminskyReply is the guide's forged reply to m:
//
//	Question   rand-….example.test. A            (echoed exactly)
//	Answer     www.example.test.   A  <attacker>
//	Authority  example.test.       NS ns.attacker.test.
//	Additional ns.attacker.test.   A  <attacker>
func kaminskyReply(m *dns.Msg, attacker netip.Addr) *dns.Msg {
	r := new(dns.Msg)
	r.SetReply(m)
	r.Authoritative = true
	a := attacker.String()
	r.Answer = []dns.RR{mustRR("www.example.test. 86400 IN A " + a)}
	r.Ns = []dns.RR{mustRR("example.test. 86400 IN NS ns.attacker.test.")}
	r.Extra = []dns.RR{mustRR("ns.attacker.test. 86400 IN A " + a)}
	return r
}

// mustRR parses a record the lab wrote itself.
func mustRR(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic("lab: bad record " + s + ": " + err.Error()) // a bug in the lab's own text
	}
	return rr
}

// attackerServer answers every A question with the attacker's address,
// authoritatively: the server ns.attacker.test. the forged delegation
// names.
func attackerServer(attacker netip.Addr) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		if len(req.Question) == 1 && req.Question[0].Qtype == dns.TypeA {
			m.Answer = []dns.RR{mustRR(dns.Fqdn(req.Question[0].Name) + " 300 IN A " + attacker.String())}
		}
		_ = w.WriteMsg(m)
	})
}

// randomName returns "rand-<16 hex digits>.example.test.".
func randomName(env *Env) (string, error) {
	var b [8]byte
	if err := env.read(b[:]); err != nil {
		return "", err
	}
	return "rand-" + hex.EncodeToString(b[:]) + ".example.test.", nil
}

// kaminskyWeak attacks the 2008-style cache until the delegation is
// hijacked or the attempts run out.
func kaminskyWeak(ctx context.Context, env *Env, n *labNet, attempts int, out Narrator) (Setting, error) {
	set := Setting{Name: "2008-style cache (accepts authority and additional data)"}
	out.Section(set.Name)
	h, err := n.hints()
	if err != nil {
		return set, err
	}
	f := &kaminskyForger{env: env, real: n.exchange(), target: netip.MustParseAddr(exampleServer), attacker: env.Addrs.Attacker}
	r := newNaiveResolver(h, f.exchange)
	out.Step("A client asks the resolver for www.example.test. A; it walks root -> test. -> example.test. and caches %s.", firstA(r.Resolve(ctx, "www.example.test.")))
	out.Step("The attacker asks for rand-<random>.example.test. A, a name nobody asked before: not in the cache, so the resolver must ask ns1.example.test.")
	out.Step("While the real NXDOMAIN is on its way, the attacker sprays forged replies: Answer www.example.test. A %s, Authority example.test. NS ns.attacker.test., Additional ns.attacker.test. A %s.", env.Addrs.Attacker, env.Addrs.Attacker)
	used := 0
	for used < attempts && firstA(r.lookup("www.example.test.", dns.TypeA)) != env.Addrs.Attacker.String() {
		name, err := randomName(env)
		if err != nil {
			return set, err
		}
		r.Resolve(ctx, name)
		used++
		if err := ctx.Err(); err != nil {
			return set, err
		}
	}
	out.Step("A lost race costs nothing: the next random name is a new race. After %d names the forger won %d race(s); the cache took every record of the forged reply.", used, f.wins.Load())
	www := firstA(r.Resolve(ctx, "www.example.test."))
	mail := firstA(r.Resolve(ctx, "mail.example.test."))
	ns := ""
	if rrs := r.lookup("example.test.", dns.TypeNS); len(rrs) > 0 {
		ns = rrs[0].(*dns.NS).Ns
	}
	out.Step("The victim asks for www.example.test.: %s. For mail.example.test. (never cached) the resolver asks example.test.'s server, now %s: %s.", www, ns, mail)
	set.AttackSucceeded = www == env.Addrs.Attacker.String() || mail == env.Addrs.Attacker.String()
	set.add("random names looked up", float64(used), "")
	set.add("forged replies accepted as replies", float64(f.wins.Load()), "")
	set.add("names now resolving to the attacker (of www, mail)", countAttacker(env, www, mail), "")
	return set, nil
}

// kaminskyRensa runs every attempt against rensa's resolver.
func kaminskyRensa(ctx context.Context, env *Env, n *labNet, attempts int, out Narrator) (Setting, error) {
	set := Setting{Name: "rensa resolver, defaults", Defence: true}
	out.Section(set.Name)
	f := &kaminskyForger{env: env, real: n.exchange(), target: netip.MustParseAddr(exampleServer), attacker: env.Addrs.Attacker}
	r, err := n.resolver(resolver.Config{Exchange: f.exchange})
	if err != nil {
		return set, err
	}
	out.Step("A client asks for www.example.test. A: %s, cached with the delegation example.test. NS ns1.example.test. from the parent's referral.", firstA(r.Resolve(ctx, "www.example.test.", dns.TypeA).Answer))
	for range attempts {
		name, err := randomName(env)
		if err != nil {
			return set, err
		}
		r.Resolve(ctx, name, dns.TypeA)
		if err := ctx.Err(); err != nil {
			return set, err
		}
	}
	out.Step("The attacker makes it look up %d random names; %d forged replies arrive as perfectly matching replies (ID, question and 0x20 case).", attempts, f.wins.Load())
	out.Step("Each is scrubbed: the answer holds no record for the question, the NS set sits in an answer's authority section and the address in its additional section; none of it is cached.")
	www := firstA(r.Resolve(ctx, "www.example.test.", dns.TypeA).Answer)
	mail := firstA(r.Resolve(ctx, "mail.example.test.", dns.TypeA).Answer)
	hijacked := 0.0
	if d, ok := r.Cache().Delegation("example.test."); ok {
		for _, ns := range d.NS {
			if !strings.EqualFold(ns.Ns, "ns1.example.test.") {
				hijacked = 1
			}
		}
	}
	out.Step("The victim asks for www.example.test.: %s; for mail.example.test., asked of ns1.example.test.: %s.", www, mail)
	set.AttackSucceeded = www == env.Addrs.Attacker.String() || mail == env.Addrs.Attacker.String() || hijacked > 0
	set.add("random names looked up", float64(attempts), "")
	set.add("forged replies delivered as matching replies", float64(f.wins.Load()), "")
	set.add("names now resolving to the attacker (of www, mail)", countAttacker(env, www, mail), "")
	set.add("foreign NS in the cached example.test. delegation", hijacked, "")
	return set, nil
}

// countAttacker counts the addresses that are the attacker's.
func countAttacker(env *Env, addrs ...string) float64 {
	n := 0
	for _, a := range addrs {
		if a == env.Addrs.Attacker.String() {
			n++
		}
	}
	return float64(n)
}

// kaminskyDNSSEC attacks a validating rensa resolver over the signed
// hierarchy, with forged replies that also answer the question itself:
// perfectly matching, but unsigned where the zone is signed.
func kaminskyDNSSEC(ctx context.Context, env *Env, attempts int, out Narrator) (Setting, error) {
	set := Setting{Name: "rensa resolver + DNSSEC validation", Defence: true}
	out.Section(set.Name)
	n, err := startNetWith(ctx, env, testbed.Config{Zones: labZones(true), Signed: true})
	if err != nil {
		return set, err
	}
	defer n.close()
	if _, err := n.serve(attackerServer(env.Addrs.Attacker), env.Addrs.Attacker); err != nil {
		return set, err
	}
	v, err := n.validator()
	if err != nil {
		return set, err
	}
	f := &kaminskyForger{env: env, real: n.exchange(), target: netip.MustParseAddr(exampleServer), attacker: env.Addrs.Attacker, answer: true}
	// Aggressive NSEC (RFC 8198) would answer most random names from the
	// first NXDOMAIN's NSEC span, leaving nothing to forge: turned off so
	// the run shows the validator rejecting forgeries that do arrive.
	r, err := n.resolver(resolver.Config{Exchange: f.exchange, Validator: v, NoAggressiveNSEC: true})
	if err != nil {
		return set, err
	}
	res := r.Resolve(ctx, "www.example.test.", dns.TypeA)
	out.Step("The hierarchy is signed; the resolver trusts the lab root's key. www.example.test. A: %s (%s).", firstA(res.Answer), res.Security)
	forgedServed, bogus, secure := 0, 0, 0
	for range attempts {
		name, err := randomName(env)
		if err != nil {
			return set, err
		}
		res := r.Resolve(ctx, name, dns.TypeA)
		if firstA(res.Answer) == env.Addrs.Attacker.String() {
			forgedServed++
		}
		switch res.Security {
		case validate.Bogus:
			bogus++
		case validate.Secure:
			secure++
		}
		if err := ctx.Err(); err != nil {
			return set, err
		}
	}
	out.Step("%d random names; %d forged replies arrive as perfectly matching replies, now also answering the question (rand-… A %s).", attempts, f.wins.Load(), env.Addrs.Attacker)
	out.Step("None carries a signature from example.test.'s key. The validator checks every answer against the chain of trust: %d lookups end Bogus (SERVFAIL with an Extended DNS Error), %d with a proven (Secure) NXDOMAIN from the real server; %d forged addresses reach a client.", bogus, secure, forgedServed)
	www := firstA(r.Resolve(ctx, "www.example.test.", dns.TypeA).Answer)
	mail := firstA(r.Resolve(ctx, "mail.example.test.", dns.TypeA).Answer)
	out.Step("The victim asks for www.example.test.: %s; for mail.example.test.: %s.", www, mail)
	set.AttackSucceeded = forgedServed > 0 || www == env.Addrs.Attacker.String() || mail == env.Addrs.Attacker.String()
	set.add("random names looked up", float64(attempts), "")
	set.add("forged replies delivered as matching replies", float64(f.wins.Load()), "")
	set.add("lookups the validator found Bogus (SERVFAIL)", float64(bogus), "")
	set.add("lookups proven Secure (the real NXDOMAIN)", float64(secure), "")
	set.add("forged addresses served to clients", float64(forgedServed), "")
	set.add("names now resolving to the attacker (of www, mail)", countAttacker(env, www, mail), "")
	return set, nil
}
