// Package chain walks and shows the DNSSEC chain of trust of one answer
// the way the study guide's table and graph do: one row per check, from
// the trust anchor to the answer (and the denial records of a negative
// answer), each with the key or hash used, what it verifies and what that
// proves. A broken chain shows the step where it breaks, and why. It is
// "rensa chain".
//
//	rep, err := chain.Walk(ctx, chain.Config{Resolver: r, Validator: v}, "www.example.test.", dns.TypeA)
//	chain.WriteTable(os.Stdout, rep)
//	rep = chain.ReportOf(question, result, verdict) // a verdict a validating resolver made
//	chain.WriteDOT(os.Stdout, rep) // a Graphviz graph: dot -Tsvg
package chain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
)

// Config says whom to ask: a resolver without a Validator (its cache and
// delegations fetch the records) and a fresh Validator, whose empty caches
// make it record every step.
type Config struct {
	Resolver  *resolver.Resolver
	Validator *validate.Validator
}

// Report is the chain of trust of one answer.
type Report struct {
	// Name and Type are the question.
	Name string `json:"name"`
	Type string `json:"type"`
	// Rcode and Answer are the answer resolved.
	Rcode  string   `json:"rcode"`
	Answer []string `json:"answer"`
	// Security is the verdict; EDE its Extended DNS Error, if any.
	Security validate.Security `json:"security"`
	EDE      string            `json:"ede,omitempty"`
	// Steps are the checks, numbered from 1 in order.
	Steps []validate.Step `json:"steps"`
}

// ErrConfig is returned when Config lacks the resolver or validator.
var ErrConfig = errors.New("chain: Config needs a Resolver and a Validator")

// Walk resolves name and qtype, then validates the answer, recording the
// chain of trust.
func Walk(ctx context.Context, cfg Config, name string, qtype uint16) (*Report, error) {
	if cfg.Resolver == nil || cfg.Validator == nil {
		return nil, ErrConfig
	}
	q := dns.Question{Name: dns.Fqdn(name), Qtype: qtype, Qclass: dns.ClassINET}
	res := cfg.Resolver.Resolve(ctx, q.Name, qtype)
	rep := &Report{Name: q.Name, Type: dns.TypeToString[qtype], Rcode: dns.RcodeToString[res.Rcode]}
	if res.Kind == resolver.KindServFail {
		rep.Security = validate.Bogus
		if res.EDE != nil {
			rep.EDE = edeText(res.EDE)
		}
		return rep, nil
	}
	vd := cfg.Validator.Validate(ctx, q, cfg.Resolver.Fetch())
	return ReportOf(q, res, vd), nil
}

// ReportOf returns the report of the answer res to q, given vd, a
// Validator's verdict on it: the answer is vd's when Secure and res's
// otherwise. Walk resolves and validates itself; a tool whose validating
// resolver already did ("rensa demo" keeps the verdicts its resolver's
// Validator returns) passes that resolver's result and verdict, so the
// table shows the checks behind the answer that was served.
func ReportOf(q dns.Question, res resolver.Result, vd validate.Verdict) *Report {
	rep := &Report{Name: q.Name, Type: dns.TypeToString[q.Qtype], Rcode: dns.RcodeToString[res.Rcode],
		Security: vd.Security, Steps: vd.Steps}
	if vd.EDE != nil {
		rep.EDE = edeText(vd.EDE)
	}
	answer := res.Answer
	if vd.Security == validate.Secure {
		answer, rep.Rcode = vd.Answer, dns.RcodeToString[vd.Rcode]
	}
	for _, rr := range answer {
		rep.Answer = append(rep.Answer, rr.String())
	}
	return rep
}

func edeText(e *dns.EDNS0_EDE) string {
	return fmt.Sprintf("%d (%s): %s", e.InfoCode, dns.ExtendedErrorCodeToString[e.InfoCode], e.ExtraText)
}

// WriteTable writes the report as the guide's table: step, zone, key or
// hash used, what is verified, what it proves, and the result.
func WriteTable(w io.Writer, rep *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s %s: %s, %s\n", rep.Name, rep.Type, rep.Rcode, rep.Security)
	fmt.Fprintln(tw, "STEP\tZONE\tKEY OR HASH\tVERIFIES\tPROVES\tRESULT")
	for i, s := range rep.Steps {
		result := "ok"
		if s.Err != "" {
			result = s.Security.String() + ": " + s.Err
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", i+1, s.Zone, s.Key, s.Verifies, s.Proves, result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, a := range rep.Answer {
		fmt.Fprintln(w, a)
	}
	if rep.EDE != "" {
		fmt.Fprintf(w, "EDE %s\n", rep.EDE)
	}
	return nil
}

// WriteDOT writes the report as a Graphviz graph shaped like the guide's:
// one cluster per zone holding its checks, edges numbered in the order
// of the steps, failed steps red.
func WriteDOT(w io.Writer, rep *Report) error {
	var b strings.Builder
	b.WriteString("digraph chain {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n")
	var zones []string
	byZone := map[string][]int{}
	for i, s := range rep.Steps {
		if _, ok := byZone[s.Zone]; !ok {
			zones = append(zones, s.Zone)
		}
		byZone[s.Zone] = append(byZone[s.Zone], i)
	}
	for zi, z := range zones {
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=\"%s\";\n", zi, dotEscape(z))
		for _, i := range byZone[z] {
			s := rep.Steps[i]
			color := "black"
			if s.Err != "" {
				color = "red"
			}
			fmt.Fprintf(&b, "    s%d [label=\"%s\\n%s\", color=%s];\n", i+1, dotEscape(s.Key), dotEscape(s.Verifies), color)
		}
		b.WriteString("  }\n")
	}
	for i := 1; i < len(rep.Steps); i++ {
		color := "black"
		if rep.Steps[i].Err != "" {
			color = "red"
		}
		fmt.Fprintf(&b, "  s%d -> s%d [label=\"%d\", color=%s];\n", i, i+1, i+1, color)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotEscape quotes s for a DOT string: backslashes and double quotes are
// escaped, so a name's own escapes (\032) stay text and only the label's
// \n separator is a Graphviz line break.
func dotEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ").Replace(s)
}
