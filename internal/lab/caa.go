package lab

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/rensa-dns/rensa/internal/audit/caa"
	"github.com/rensa-dns/rensa/internal/resolver"
)

// caaScenario shows CAA (RFC 8659): the zone names the one CA allowed to
// issue for it, and a CA that checks refuses everyone else's requests.
type caaScenario struct{}

func (caaScenario) Name() string { return "caa" }

func (caaScenario) Summary() string {
	return `two CAs on loopback; the zone says CAA 0 issue "ca-a.test": CA A issues, CA B refuses`
}

// caaName is the name certificates are asked for.
const caaName = "www.example.test"

// Run asks both CAs for a certificate, first with CA B not checking CAA
// (as before CAA checking became mandatory in 2017), then checking.
func (caaScenario) Run(ctx context.Context, env *Env, out Narrator) (Report, error) {
	var rep Report
	resolverIP, caA, caB := env.service(0), env.service(20), env.service(21)
	if err := env.checkAddrs(resolverIP, caA, caB); err != nil {
		return rep, err
	}
	n, err := startNet(ctx, env, labZones(true))
	if err != nil {
		return rep, err
	}
	defer n.close()
	r, err := n.resolver(resolver.Config{})
	if err != nil {
		return rep, err
	}
	dns, err := n.serveResolver(r, resolverIP)
	if err != nil {
		return rep, err
	}
	checker, err := caa.New(caa.Config{Resolver: dns})
	if err != nil {
		return rep, fmt.Errorf("lab: %w", err)
	}
	client := httpClient(env.dial)
	for _, defence := range []bool{false, true} {
		a, stopA, err := startHTTP(env, caA, &certAuthority{name: "ca-a.test", checker: checker, checkCAA: true})
		if err != nil {
			return rep, err
		}
		b, stopB, err := startHTTP(env, caB, &certAuthority{name: "ca-b.test", checker: checker, checkCAA: defence})
		if err != nil {
			stopA()
			return rep, err
		}
		set, err := caaSetting(ctx, client, defence, a, b, out)
		stopA()
		stopB()
		if err != nil {
			return rep, err
		}
		rep.Settings = append(rep.Settings, set)
	}
	return rep, nil
}

// caaSetting asks CA A, then CA B, for a certificate.
func caaSetting(ctx context.Context, client *http.Client, defence bool, a, b netip.AddrPort, out Narrator) (Setting, error) {
	set := Setting{Name: "CA B ignores CAA (before 2017)", Defence: defence}
	if defence {
		set.Name = "CA B checks CAA (RFC 8659, mandatory since 2017)"
	}
	out.Section(set.Name)
	out.Step(`The owner publishes example.test. CAA 0 issue "ca-a.test": only CA A may issue for example.test. and every name below it.`)
	statusA, bodyA, err := fetch(ctx, client, http.MethodPost, "http://"+a.String()+"/issue?name="+caaName)
	if err != nil {
		return set, err
	}
	out.Step("An applicant asks CA A (ca-a.test, %s) for %s. CA A climbs www.example.test. -> example.test., finds the CAA RRset, sees itself named: HTTP %d %s", a, caaName, statusA, bodyA)
	statusB, bodyB, err := fetch(ctx, client, http.MethodPost, "http://"+b.String()+"/issue?name="+caaName)
	if err != nil {
		return set, err
	}
	if defence {
		out.Step("The same applicant (or an attacker who passed domain validation) asks CA B (ca-b.test, %s). CA B checks CAA and is not named: HTTP %d %s", b, statusB, bodyB)
	} else {
		out.Step("The same applicant (or an attacker who passed domain validation) asks CA B (ca-b.test, %s), which does not look at CAA: HTTP %d %s", b, statusB, bodyB)
	}
	set.AttackSucceeded = statusB == http.StatusOK
	set.add("CA A (authorised) issued", boolFigure(statusA == http.StatusOK), "")
	set.add("CA B (not authorised) issued", boolFigure(statusB == http.StatusOK), "")
	return set, nil
}

// boolFigure is 1 for true and 0 for false.
func boolFigure(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// certAuthority is a simulated CA: POST /issue?name=N "issues" a
// certificate for N (says so) when its CAA check allows, and refuses with
// 403 when it does not, or with 503 when the DNS failed (RFC 8659 section
// 3: a CA issues only after the search completed). A CA with checkCAA
// false issues to everyone.
type certAuthority struct {
	name     string
	checker  *caa.Checker
	checkCAA bool
}

func (ca *certAuthority) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/issue" {
		http.Error(w, "POST /issue?name=NAME", http.StatusNotFound)
		return
	}
	name := req.URL.Query().Get("name")
	if !ca.checkCAA {
		fmt.Fprintf(w, "issued: certificate for %s signed by %s (CAA not checked)\n", name, ca.name)
		return
	}
	res, err := ca.checker.Check(req.Context(), caa.Request{Name: name, Issuer: ca.name})
	switch {
	case err != nil:
		http.Error(w, "refused: "+res.Decision.Reason, http.StatusServiceUnavailable)
	case res.Status == caa.Allowed:
		fmt.Fprintf(w, "issued: certificate for %s signed by %s (CAA at %s allows it)\n", name, ca.name, res.RelevantName)
	default:
		http.Error(w, "refused: "+res.Decision.Reason, http.StatusForbidden)
	}
}
