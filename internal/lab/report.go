package lab

import (
	"fmt"
	"io"
	"strings"
)

// Verdict judges one setting of a scenario.
type Verdict string

// The verdicts. A setting is as expected when the attack succeeded with
// the defence off, or failed with it on.
const (
	// AsExpected: the attack succeeded with the defence off, or failed
	// with it on.
	AsExpected Verdict = "as-expected"
	// Unexpected: the defence failed, or the attack is dead (it failed
	// with the defence off, so the defended run proves nothing).
	Unexpected Verdict = "unexpected"
	// Pending: the setting waits for a building block and did not run.
	Pending Verdict = "pending"
)

// Report is the outcome of one scenario: what was measured in each
// setting. It is what "rensa lab --json" prints.
type Report struct {
	Scenario string    `json:"scenario"`
	Summary  string    `json:"summary"`
	Settings []Setting `json:"settings"`
	// Pending says what the scenario waits for, when it could not run at
	// all yet.
	Pending string `json:"pending,omitempty"`
	// Seconds is how long the scenario took, Packets how many packets
	// its attackers sent.
	Seconds float64 `json:"seconds"`
	Packets int64   `json:"packets"`
}

// Setting is one configuration a scenario attacked: a weakened one
// (Defence false) or one with the defence on.
type Setting struct {
	Name    string `json:"name"`
	Defence bool   `json:"defence"`
	// AttackSucceeded reports whether the attack reached its goal.
	AttackSucceeded bool `json:"attack_succeeded"`
	// Figures are the measurements behind the verdict.
	Figures []Figure `json:"figures"`
	// Pending, when not empty, says what this setting waits for; it was
	// not run.
	Pending string `json:"pending,omitempty"`
	// Verdict is filled in by Run.
	Verdict Verdict `json:"verdict"`
}

// Figure is one measured or predicted number.
type Figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
}

// add appends a figure to s.
func (s *Setting) add(name string, value float64, unit string) {
	s.Figures = append(s.Figures, Figure{Name: name, Value: value, Unit: unit})
}

// Figure returns the value of the figure called name, and false when s
// has none.
func (s Setting) Figure(name string) (float64, bool) {
	for _, f := range s.Figures {
		if f.Name == name {
			return f.Value, true
		}
	}
	return 0, false
}

// judge fills in every setting's verdict.
func (r *Report) judge() {
	for i := range r.Settings {
		s := &r.Settings[i]
		switch {
		case s.Pending != "":
			s.Verdict = Pending
		case s.AttackSucceeded != s.Defence:
			s.Verdict = AsExpected
		default:
			s.Verdict = Unexpected
		}
	}
}

// OK reports whether no setting of r went unexpectedly: every attack
// succeeded where the defence was off and failed where it was on.
// Pending settings do not count.
func (r Report) OK() bool {
	for _, s := range r.Settings {
		if s.Verdict == Unexpected {
			return false
		}
	}
	return true
}

// Setting returns the setting called name, and false when r has none.
func (r Report) Setting(name string) (Setting, bool) {
	for _, s := range r.Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// WriteText writes r's figures and verdicts, one block per setting, as
// the end of a scenario's narration.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	if r.Pending != "" {
		fmt.Fprintf(&b, "pending: needs %s\n", r.Pending)
	}
	for _, s := range r.Settings {
		defence := "off"
		if s.Defence {
			defence = "on"
		}
		fmt.Fprintf(&b, "\n%s (defence %s)\n", s.Name, defence)
		if s.Pending != "" {
			fmt.Fprintf(&b, "  pending: needs %s\n", s.Pending)
			continue
		}
		for _, f := range s.Figures {
			fmt.Fprintf(&b, "  %-44s %s\n", f.Name, formatValue(f))
		}
		fmt.Fprintf(&b, "  verdict: %s\n", sentence(s))
	}
	fmt.Fprintf(&b, "\n%d packets sent by the attackers, %.1f s\n", r.Packets, r.Seconds)
	_, err := io.WriteString(w, b.String())
	return err
}

// formatValue prints a figure compactly: integers without decimals,
// small probabilities in scientific notation.
func formatValue(f Figure) string {
	var v string
	switch {
	case f.Value == float64(int64(f.Value)) && f.Value < 1e15 && f.Value > -1e15:
		v = fmt.Sprintf("%d", int64(f.Value))
	case f.Value != 0 && f.Value < 0.001 && f.Value > -0.001:
		v = fmt.Sprintf("%.3g", f.Value)
	default:
		v = fmt.Sprintf("%.3f", f.Value)
	}
	if f.Unit != "" {
		v += " " + f.Unit
	}
	return v
}

// sentence is a setting's verdict in words.
func sentence(s Setting) string {
	what := "the attack failed"
	if s.AttackSucceeded {
		what = "the attack succeeded"
	}
	switch s.Verdict {
	case AsExpected:
		return what + ", as expected"
	case Unexpected:
		return what + ": UNEXPECTED"
	}
	return what
}
