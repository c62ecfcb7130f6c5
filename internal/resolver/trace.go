package resolver

import (
	"fmt"
	"net/netip"
)

// step is a state of the per-query state machine (iterate.go).
type step int

const (
	// stepCache looks for the current name in the cache.
	stepCache step = iota
	// stepDelegation finds the closest known zone cut above the name.
	stepDelegation
	// stepPickServer chooses a server of that zone, fetching NS
	// addresses when none is known.
	stepPickServer
	// stepSend asks the chosen server.
	stepSend
	// stepReply scrubs and classifies the reply and acts on it.
	stepReply
	// stepForward asks the upstream resolvers instead (forwarding mode,
	// forward.go).
	stepForward
	// stepDone ends the resolution with q.res.
	stepDone
)

var stepNames = [...]string{"cache", "delegation", "pick-server", "send", "reply", "forward", "done"}

func (s step) String() string {
	if int(s) < len(stepNames) {
		return stepNames[s]
	}
	return "step?"
}

// Transition is one step of a resolution, for traces and tests.
type Transition struct {
	// Depth is 0 for the client's query, 1 for a lookup of an NS address
	// it needed, and so on.
	Depth int
	// Step is the state entered, such as "send" or "done".
	Step string
	// Name and Type are the question being resolved at this depth.
	Name string
	Type uint16
	// Zone is the zone being asked, once known.
	Zone string
	// Server is the address asked, for "send".
	Server netip.Addr
	// Note says why, such as "referral to example.test." or "NXDOMAIN".
	Note string
}

// String formats t on one line.
func (t Transition) String() string {
	s := fmt.Sprintf("%*s%s %s/%d zone=%s", 2*t.Depth, "", t.Step, t.Name, t.Type, t.Zone)
	if t.Server.IsValid() {
		s += " server=" + t.Server.String()
	}
	if t.Note != "" {
		s += ": " + t.Note
	}
	return s
}
