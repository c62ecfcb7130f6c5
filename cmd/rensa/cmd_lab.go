package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/rensa-dns/rensa/internal/lab"
)

var _ = register(command{
	name:    "lab",
	summary: "reproduce the guide's attacks on loopback, defended and measured",
	usage:   labUsage,
	run:     labMain,
})

const labUsage = `usage: rensa lab [--short] [--json] [NAME | all]

Run the attack lab. Each scenario starts its own servers on loopback,
attacks a deliberately weakened setup, then rensa's defaults, narrates
the steps of the guide's diagram and prints the measured figures and a
verdict per setting: the attack must succeed where the defence is off
and fail where it is on. Nothing outside 127.0.0.0/8 and ::1 is ever
contacted; each scenario is bounded in time (60 s, short: 30 s) and in
the packets its attackers send.

Without NAME, list the scenarios. "all" runs the tour and ends with a
summary table. Exit status 1 when a setting went unexpectedly or a
scenario failed to run; pending scenarios (waiting for a building block)
are reported, not failures.

Examples:
  rensa lab
  rensa lab kaminsky
  rensa lab poisoning --short
  rensa lab all --short
  rensa lab amplification --json

Flags:
`

// labOptions is what "rensa lab" was told.
type labOptions struct {
	short bool
	json  bool
	name  string // "" lists, "all" runs the tour
}

func (o *labOptions) addFlags(fs *flag.FlagSet) {
	fs.BoolVar(&o.short, "short", false, "run the short mode of each scenario (fewer attempts; for CI and demos)")
	fs.BoolVar(&o.json, "json", false, "print the reports as JSON instead of the narration")
}

func labMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts labOptions
	fs := newFlagSet("lab", labUsage, stderr)
	opts.addFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch len(rest) {
	case 0:
	case 1:
		opts.name = rest[0]
	default:
		return errUsage("unexpected argument %q", rest[1])
	}
	if opts.name != "" && opts.name != "all" {
		if _, err := lab.Lookup(opts.name); err != nil {
			return errUsage("unknown scenario %q (run \"rensa lab\" for the list)", opts.name)
		}
	}
	return runLab(ctx, opts, stdout, stderr)
}

// runLab lists, runs one scenario or runs the tour.
func runLab(ctx context.Context, opts labOptions, stdout, stderr io.Writer) error {
	if opts.name == "" {
		return listLab(stdout, opts.json)
	}
	scenarios := lab.Scenarios()
	if opts.name != "all" {
		s, err := lab.Lookup(opts.name)
		if err != nil {
			return err
		}
		scenarios = []lab.Scenario{s}
	}
	var (
		reports []lab.Report
		errs    []error
	)
	for _, s := range scenarios {
		var story io.Writer
		if !opts.json {
			story = stdout
			fmt.Fprintf(stdout, "=== %s: %s\n", s.Name(), s.Summary())
		}
		rep, err := lab.Run(ctx, s, lab.NewEnv(lab.Config{Short: opts.short}), lab.NewNarrator(story))
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if !opts.json {
			if err := lab.WriteText(stdout, rep); err != nil {
				return err
			}
			fmt.Fprintln(stdout)
		}
		reports = append(reports, rep)
	}
	if err := writeLabResults(stdout, opts, reports); err != nil {
		return err
	}
	for _, r := range reports {
		if !r.OK() {
			errs = append(errs, fmt.Errorf("lab: %s: a setting went unexpectedly (the defence did not do what it should, or the attack is dead)", r.Scenario))
		}
	}
	return errors.Join(errs...)
}

// writeLabResults prints the JSON reports, or the tour's summary table.
func writeLabResults(w io.Writer, opts labOptions, reports []lab.Report) error {
	if opts.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if opts.name != "all" && len(reports) == 1 {
			return enc.Encode(reports[0])
		}
		if reports == nil {
			reports = []lab.Report{}
		}
		return enc.Encode(reports)
	}
	if opts.name != "all" {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tSETTING\tDEFENCE\tATTACK\tVERDICT")
	for _, r := range reports {
		if r.Pending != "" {
			fmt.Fprintf(tw, "%s\t(needs %s)\t-\t-\t%s\n", r.Scenario, firstWords(r.Pending), lab.Pending)
		}
		for _, s := range r.Settings {
			defence, attack := "off", "-"
			if s.Defence {
				defence = "on"
			}
			if s.Pending == "" {
				attack = "failed"
				if s.AttackSucceeded {
					attack = "succeeded"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Scenario, s.Name, defence, attack, s.Verdict)
		}
	}
	return tw.Flush()
}

// firstWords shortens a pending reason for the table.
func firstWords(s string) string {
	if i := strings.IndexAny(s, " :("); i > 0 {
		return s[:i]
	}
	return s
}

// listLab prints the scenarios.
func listLab(w io.Writer, asJSON bool) error {
	type entry struct {
		Name    string `json:"name"`
		Summary string `json:"summary"`
	}
	var list []entry
	for _, s := range lab.Scenarios() {
		list = append(list, entry{s.Name(), s.Summary()})
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, e := range list {
		fmt.Fprintf(tw, "%s\t%s\n", e.Name, e.Summary)
	}
	fmt.Fprintln(tw, "\nRun \"rensa lab NAME\" for one scenario, \"rensa lab all\" for the tour.")
	return tw.Flush()
}
