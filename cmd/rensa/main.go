// Command rensa is a DNS security suite in one binary: an authoritative
// server, a validating resolver, DNSSEC tools, audits and an attack lab.
//
// Each subcommand lives in its own cmd_<name>.go file, which declares a
// <name>Options struct, an addFlags method and a run<Name> function, and
// registers itself in the commands table below.
//
//	rensa check-zone example.test.zone example.test.
//	rensa auth --listen 127.0.0.1:5353 --zone example.test.=example.test.zone
//	rensa query @127.0.0.1:5353 www.example.test A
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: its name, a one-line summary, the usage text
// and the function that runs it with the arguments after the name.
type command struct {
	name    string
	summary string
	usage   string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is the command table; each cmd_<name>.go adds its entry here.
var commands = map[string]command{}

// register adds c to the command table. It is called from package-level
// variable initialisers in the cmd_<name>.go files (no init side effects
// beyond the table itself).
func register(c command) bool {
	commands[c.name] = c
	return true
}

// usageError marks an error caused by bad flags or arguments: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errUsage returns a usage error with a formatted message.
func errUsage(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errFindings is returned by commands that completed but found problems
// (zone errors, audit findings): exit code 1 without an extra message.
var errFindings = errors.New("findings reported")

// statusError is an error with an exit status that is part of a command's
// contract, such as "rensa audit caa" exiting 2 when DNS failed, so that
// scripts tell "not allowed" (1) from "could not check" (2).
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// withStatus returns err carrying the given exit status.
func withStatus(status int, err error) error {
	return &statusError{status: status, err: err}
}

// exitCode maps an error from a command to the process exit code:
// 0 ok, 1 failure or findings, 2 usage; a statusError brings its own.
func exitCode(err error) int {
	var ue *usageError
	var se *statusError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &se):
		return se.status
	case errors.As(err, &ue), errors.Is(err, flag.ErrHelp):
		return 2
	default:
		return 1
	}
}

// newFlagSet returns a flag set for a subcommand that reports errors
// instead of exiting, and prints usage to stderr.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs, allowing flags after positional
// arguments (as in "rensa check-zone FILE --json"), and returns the
// positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

const mainUsage = `usage: rensa <command> [flags] [arguments]

Run "rensa <command> -h" for the flags of one command.

commands:
`

func printMainUsage(w io.Writer) {
	fmt.Fprint(w, mainUsage)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
}

// run dispatches args (without the program name) to a subcommand and
// returns the exit code. It is the whole program, callable from tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printMainUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "rensa: error: unknown command %q\n", args[0])
		printMainUsage(stderr)
		return 2
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	if err != nil && !errors.Is(err, errFindings) && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stderr, "rensa: error: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "rensa: hint: run \"rensa %s -h\" for usage\n", c.name)
		}
	}
	return exitCode(err)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
