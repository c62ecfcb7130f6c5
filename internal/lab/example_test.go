package lab_test

import (
	"context"
	"fmt"
	"os"

	"github.com/rensa-dns/rensa/internal/lab"
)

// Run one scenario in short mode, narrating to stdout, then print its
// figures and verdicts.
func ExampleRun() {
	s, err := lab.Lookup("kaminsky")
	if err != nil {
		fmt.Println(err)
		return
	}
	env := lab.NewEnv(lab.Config{Short: true})
	rep, err := lab.Run(context.Background(), s, env, lab.NewNarrator(os.Stdout))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = lab.WriteText(os.Stdout, rep)
	fmt.Println("as expected:", rep.OK())
}

// The scenarios of the tour, in order.
func ExampleScenarios() {
	for _, s := range lab.Scenarios() {
		fmt.Println(s.Name())
	}
	// Output:
	// amplification
	// poisoning
	// kaminsky
	// takeover
	// caa
	// dnssec
	// encrypted
}
