package lab

import (
	"fmt"
	"io"
	"sync"
)

// Narrator receives a scenario's story as it runs: sections (one per
// setting), numbered steps that follow the guide's diagram, and notes.
// Implementations must be safe for concurrent use.
type Narrator interface {
	// Section starts a part of the story, such as one setting, and
	// restarts the step numbers.
	Section(title string)
	// Step tells the next numbered step.
	Step(format string, args ...any)
	// Note adds a detail to the current step.
	Note(format string, args ...any)
}

// NewNarrator returns a Narrator that writes plain text to w, or
// discards everything when w is nil.
func NewNarrator(w io.Writer) Narrator { return &textNarrator{w: w} }

// textNarrator writes the story as text.
type textNarrator struct {
	mu sync.Mutex // guards w and step
	w  io.Writer
	// step is the number of the last step of the current section.
	step int
}

func (n *textNarrator) Section(title string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.step = 0
	if n.w != nil {
		fmt.Fprintf(n.w, "\n== %s\n", title)
	}
}

func (n *textNarrator) Step(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.step++
	if n.w != nil {
		fmt.Fprintf(n.w, "%2d. %s\n", n.step, fmt.Sprintf(format, args...))
	}
}

func (n *textNarrator) Note(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.w != nil {
		fmt.Fprintf(n.w, "    %s\n", fmt.Sprintf(format, args...))
	}
}
