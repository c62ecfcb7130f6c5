package lab

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/audit/takeover"
	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/zone"
)

// takeoverScenario is the subdomain takeover: a CNAME left pointing at a
// CDN name its owner gave up, which anyone can claim.
type takeoverScenario struct{}

func (takeoverScenario) Name() string { return "takeover" }

func (takeoverScenario) Summary() string {
	return "a CNAME left pointing at a released CDN name; the attacker claims it and serves the owner's name"
}

const (
	// shopName is the owner's name, shopTarget the CDN name it points at.
	shopName   = "shop.example.test."
	shopTarget = "shop.example.cdn.test."
	ownerPage  = "Example Shop: the owner's real site"
	evilPage   = "Example Shop: please sign in again (the attacker's page)"
)

// Run plays the guide's six steps twice: once with the owner ignoring the
// scanner's finding, once with the owner removing the dangling CNAME
// when the scanner reports it.
func (takeoverScenario) Run(ctx context.Context, env *Env, out Narrator) (Report, error) {
	var rep Report
	for _, defence := range []bool{false, true} {
		set, err := takeoverSetting(ctx, env, defence, out)
		if err != nil {
			return rep, err
		}
		rep.Settings = append(rep.Settings, set)
	}
	return rep, nil
}

// takeoverLab is one setting's world: the hierarchy, the owner's zone
// served by an engine the owner can change, the CDN and a resolver with a
// clock that jumps over TTLs.
type takeoverLab struct {
	env      *Env
	net      *labNet
	owner    *auth.Server
	cdn      *cdn
	api      netip.AddrPort
	edge     netip.AddrPort
	clock    *clock
	resolver *resolver.Resolver
	scanner  *takeover.Scanner
	http     *http.Client // the owner's and the attacker's
	victim   *http.Client // resolves through the resolver
}

// startTakeover builds the world.
func startTakeover(ctx context.Context, env *Env) (*takeoverLab, error) {
	resolverIP, apiIP, edgeIP := env.service(0), env.service(30), env.service(31)
	if err := env.checkAddrs(resolverIP, apiIP, edgeIP, netip.MustParseAddr(exampleServer), netip.MustParseAddr(cdnServer)); err != nil {
		return nil, err
	}
	n, err := startNet(ctx, env, labZones(false))
	if err != nil {
		return nil, err
	}
	l := &takeoverLab{env: env, net: n, clock: newClock(), http: httpClient(env.dial)}
	if err := l.start(edgeIP, apiIP, resolverIP); err != nil {
		n.close()
		return nil, err
	}
	return l, nil
}

func (l *takeoverLab) start(edgeIP, apiIP, resolverIP netip.Addr) error {
	z, err := zone.Parse(strings.NewReader(exampleZone), "example.test.", "lab example.test. zone", zone.LoadOptions{})
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if l.owner, err = auth.New(auth.Config{Zones: zone.NewSet(z)}); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if _, err := l.net.serve(l.owner, netip.MustParseAddr(exampleServer)); err != nil {
		return err
	}
	if l.cdn, err = newCDN(edgeIP); err != nil {
		return err
	}
	if _, err := l.net.serve(l.cdn.engine, netip.MustParseAddr(cdnServer)); err != nil {
		return err
	}
	var stop func()
	if l.api, stop, err = startHTTP(l.env, apiIP, l.cdn.API()); err != nil {
		return err
	}
	l.net.onClose(stop)
	if l.edge, stop, err = startHTTP(l.env, edgeIP, l.cdn.Edge()); err != nil {
		return err
	}
	l.net.onClose(stop)
	if l.resolver, err = l.net.resolver(resolver.Config{Now: l.clock.Now}); err != nil {
		return err
	}
	client, err := l.net.serveResolver(l.resolver, resolverIP)
	if err != nil {
		return err
	}
	if l.scanner, err = takeover.New(takeover.Config{Resolver: client, Timeout: queryTimeout}); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	l.victim = httpClient(l.victimDial)
	return nil
}

// victimDial is the victim's browser: it resolves the host through the
// lab resolver, and reaches port 80 of the edge's address where the edge
// really listens.
func (l *takeoverLab) victimDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	res := l.resolver.Resolve(ctx, dns.Fqdn(host), dns.TypeA)
	ip := firstA(res.Answer)
	if ip == "" {
		return nil, fmt.Errorf("%w for %s: %s", errNoAnswer, host, res.Kind)
	}
	if ip == l.edge.Addr().String() && port == "80" {
		return l.env.dial(ctx, network, l.edge.String())
	}
	return l.env.dial(ctx, network, net.JoinHostPort(ip, port))
}

// cdnCall calls the CDN's API.
func (l *takeoverLab) cdnCall(ctx context.Context, op, account, page string) (string, error) {
	v := url.Values{"name": {shopTarget}, "account": {account}, "host": {shopName}, "page": {page}}
	status, body, err := fetch(ctx, l.http, http.MethodPost, "http://"+l.api.String()+"/"+op+"?"+v.Encode())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("HTTP %d %s", status, body), nil
}

// visit is the victim's fetch of http://shop.example.test/.
func (l *takeoverLab) visit(ctx context.Context) string {
	status, body, err := fetch(ctx, l.victim, http.MethodGet, "http://"+strings.TrimSuffix(shopName, ".")+"/")
	if err != nil {
		return "fails: " + err.Error()
	}
	return fmt.Sprintf("HTTP %d %q", status, body)
}

// lookup says what the resolver answers for name.
func (l *takeoverLab) lookup(ctx context.Context, name string) string {
	res := l.resolver.Resolve(ctx, name, dns.TypeA)
	var parts []string
	for _, rr := range res.Answer {
		parts = append(parts, strings.Join(strings.Fields(rr.String())[3:], " "))
	}
	return res.Kind.String() + " " + strings.Join(parts, ", ")
}

// removeCNAME is the owner acting on the finding.
func (l *takeoverLab) removeCNAME() error {
	text := strings.Replace(exampleZone, "shop  300 IN CNAME shop.example.cdn.test.\n", "", 1)
	z, err := zone.Parse(strings.NewReader(text), "example.test.", "lab example.test. zone", zone.LoadOptions{})
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	l.owner.SetZones(zone.NewSet(z))
	return nil
}

// takeoverSetting plays the six steps.
func takeoverSetting(ctx context.Context, env *Env, defence bool, out Narrator) (Setting, error) {
	set := Setting{Name: "owner ignores the dangling CNAME", Defence: defence}
	if defence {
		set.Name = "owner runs rensa audit takeover and removes what it reports"
	}
	out.Section(set.Name)
	l, err := startTakeover(ctx, env)
	if err != nil {
		return set, err
	}
	defer l.net.close()
	res, err := l.cdnCall(ctx, "claim", "owner", ownerPage)
	if err != nil {
		return set, err
	}
	out.Step("The owner claims %s at the CDN (%s) and adds the CNAME %s -> %s; the victim's fetch of http://shop.example.test/: %s", shopTarget, res, shopName, shopTarget, l.visit(ctx))
	if res, err = l.cdnCall(ctx, "release", "owner", ""); err != nil {
		return set, err
	}
	out.Step("The owner shuts the shop and leaves the CDN, which releases the name (%s).", res)
	l.clock.Advance(time.Hour)
	out.Step("Nobody removes the CNAME. An hour later (TTLs expired) %s resolves to: %s: it dangles.", shopName, l.lookup(ctx, shopName))
	rec, _ := takeover.FromRR(mustRR(shopName + " 300 IN CNAME " + shopTarget))
	scan, err := l.scanner.Scan(ctx, []takeover.Record{rec})
	if err != nil {
		return set, fmt.Errorf("lab: %w", err)
	}
	for _, f := range scan.Findings {
		out.Note("rensa audit takeover: %s", strings.Join(strings.Fields(f.String()), " "))
	}
	set.add("dangling records the scanner reports", float64(len(scan.Findings)), "")
	if defence && len(scan.Findings) > 0 {
		if err := l.removeCNAME(); err != nil {
			return set, err
		}
		out.Note("The owner removes the CNAME from example.test.")
		l.clock.Advance(10 * time.Minute)
	}
	out.Step("The attacker finds the dangling name (by scanning DNS, certificate logs, old links): %s", l.lookup(ctx, shopName))
	if res, err = l.cdnCall(ctx, "claim", "attacker", evilPage); err != nil {
		return set, err
	}
	out.Step("The attacker opens an account at the same CDN and claims %s: %s.", shopTarget, res)
	l.clock.Advance(time.Hour)
	page := l.visit(ctx)
	out.Step("The victim opens http://shop.example.test/: %s", page)
	set.AttackSucceeded = strings.Contains(page, evilPage)
	set.add("victim served the attacker's page", boolFigure(set.AttackSucceeded), "")
	return set, nil
}
