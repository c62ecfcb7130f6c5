package lab

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Scenario is one attack of the guide, reproduced against a weakened
// setup and against rensa's defaults. Run narrates its steps to out and
// returns the measured figures and a verdict per setting. Run must route
// every address it uses through env.CheckLoopback (or the Env's dial and
// listen helpers, which do) and refuse before sending anything when one
// is outside loopback; it must stop when ctx ends. An error means the
// scenario could not be carried out, not that an attack succeeded.
type Scenario interface {
	// Name is the scenario's name on the command line, such as "kaminsky".
	Name() string
	// Summary says in one line what the scenario shows.
	Summary() string
	// Run carries the scenario out.
	Run(ctx context.Context, env *Env, out Narrator) (Report, error)
}

// Scenarios returns every scenario, in the order of the tour. Each call
// returns a fresh slice.
func Scenarios() []Scenario {
	return []Scenario{
		amplification{},
		poisoning{},
		kaminsky{},
		takeoverScenario{},
		caaScenario{},
		dnssecScenario{},
		encrypted{},
	}
}

// ErrUnknown is wrapped by Lookup's error for a name no scenario has.
var ErrUnknown = errors.New("lab: unknown scenario")

// Lookup returns the scenario called name.
func Lookup(name string) (Scenario, error) {
	for _, s := range Scenarios() {
		if s.Name() == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknown, name)
}

// Run runs s within its time bound (ScenarioTimeout, or
// ShortScenarioTimeout when env.Short), fills in the report's name,
// summary, duration and packet count, and judges each setting (see
// Setting.Verdict). The packet count is env's, so give each run a fresh
// Env.
func Run(ctx context.Context, s Scenario, env *Env, out Narrator) (Report, error) {
	if out == nil {
		out = NewNarrator(nil)
	}
	limit := ScenarioTimeout
	if env.Short {
		limit = ShortScenarioTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	rep, err := s.Run(ctx, env, out)
	rep.Scenario, rep.Summary = s.Name(), s.Summary()
	rep.Seconds = time.Since(start).Seconds()
	rep.Packets = env.Packets()
	rep.judge()
	if err != nil {
		return rep, fmt.Errorf("lab: %s: %w", s.Name(), err)
	}
	return rep, nil
}
