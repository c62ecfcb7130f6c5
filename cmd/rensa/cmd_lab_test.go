package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rensa-dns/rensa/internal/lab"
)

// TestLabAll runs the short tour as "rensa lab all --short --json" and
// checks every report: each scenario is there, and no setting went
// unexpectedly.
func TestLabAll(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := runLab(context.Background(), labOptions{short: true, json: true, name: "all"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("rensa lab all: %v\n%s", err, stderr.String())
	}
	var reports []lab.Report
	if err := json.Unmarshal(stdout.Bytes(), &reports); err != nil {
		t.Fatalf("output is not a JSON list of reports: %v\n%s", err, stdout.String())
	}
	if len(reports) != len(lab.Scenarios()) {
		t.Fatalf("%d reports, want one per scenario (%d)", len(reports), len(lab.Scenarios()))
	}
	ran := 0
	for _, r := range reports {
		for _, s := range r.Settings {
			switch s.Verdict {
			case lab.Unexpected:
				t.Errorf("%s: %s went unexpectedly: %+v", r.Scenario, s.Name, s.Figures)
			case lab.AsExpected:
				ran++
			}
		}
	}
	if ran < 10 {
		t.Errorf("only %d settings ran, want at least 10 (5 scenarios, 2 settings each)", ran)
	}
}

// TestLabSummaryTable: the tour's text output ends with the summary
// table, one row per setting.
func TestLabSummaryTable(t *testing.T) {
	t.Parallel()
	var stdout bytes.Buffer
	if err := writeLabResults(&stdout, labOptions{name: "all"}, []lab.Report{{
		Scenario: "caa",
		Settings: []lab.Setting{
			{Name: "off", AttackSucceeded: true, Verdict: lab.AsExpected},
			{Name: "on", Defence: true, Verdict: lab.AsExpected},
		},
	}, {Scenario: "dnssec", Pending: "internal/resolver/validate (the validator)"}}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"SCENARIO  SETTING                             DEFENCE  ATTACK     VERDICT",
		"caa       off                                 off      succeeded  as-expected",
		"caa       on                                  on       failed     as-expected",
		"dnssec    (needs internal/resolver/validate)  -        -          pending",
	}
	got := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(got) != len(want) {
		t.Fatalf("table:\n%s", stdout.String())
	}
	for i := range want {
		if strings.TrimRight(got[i], " ") != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
}
