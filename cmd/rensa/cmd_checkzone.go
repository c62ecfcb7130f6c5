package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/rensa-dns/rensa/internal/zone"
)

const checkZoneUsage = `usage: rensa check-zone [--json] FILE [ORIGIN]

Load the master file FILE (RFC 1035: $ORIGIN, $TTL, $INCLUDE, $GENERATE)
and check it as named-checkzone does: SOA and NS at the apex, CNAME beside
other data, NS targets without addresses, data hidden below delegations
and DNAMEs, records outside the zone, CAA syntax, and more. ORIGIN
defaults to the owner of the SOA record, else the file's first $ORIGIN.

Each finding is printed as "file:line: error: message" or "...: warning:
...", then a summary. The exit code is 1 when the file does not load or
has errors, 0 otherwise (warnings alone are fine), 2 for usage errors.

examples:
  rensa check-zone example.test.zone example.test.
  rensa check-zone db.example
  rensa check-zone --json example.test.zone | jq '.findings[]'

flags:
`

var _ = register(command{
	name:    "check-zone",
	summary: "load a zone file and check it like named-checkzone",
	usage:   checkZoneUsage,
	run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var opts checkZoneOptions
		fs := newFlagSet("check-zone", checkZoneUsage, stderr)
		opts.addFlags(fs)
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		switch len(pos) {
		case 2:
			opts.origin = pos[1]
			fallthrough
		case 1:
			opts.file = pos[0]
		default:
			return errUsage("check-zone takes FILE and an optional ORIGIN, got %d arguments", len(pos))
		}
		return runCheckZone(ctx, opts, stdout, stderr)
	},
})

// checkZoneOptions holds the flags and arguments of check-zone.
type checkZoneOptions struct {
	json   bool   // print a JSON report instead of text
	file   string // the master file
	origin string // the zone's origin; "" to take it from the file
}

func (o *checkZoneOptions) addFlags(fs *flag.FlagSet) {
	fs.BoolVar(&o.json, "json", false, "print the report as one JSON object on stdout")
}

// checkZoneReport is the --json output.
type checkZoneReport struct {
	File     string         `json:"file"`
	Zone     string         `json:"zone,omitempty"`
	Serial   *uint32        `json:"serial,omitempty"`
	Records  int            `json:"records"`
	OK       bool           `json:"ok"`
	Errors   int            `json:"errors"`
	Warnings int            `json:"warnings"`
	Error    string         `json:"error,omitempty"` // why the file did not load
	Findings []zone.Finding `json:"findings"`
}

// runCheckZone loads and checks one zone file. It returns errFindings
// when the zone has errors, and the load error when it does not load.
func runCheckZone(_ context.Context, opts checkZoneOptions, stdout, _ io.Writer) error {
	rep := checkZoneReport{File: opts.file, Findings: []zone.Finding{}}
	z, err := zone.Load(opts.file, opts.origin, zone.LoadOptions{})
	if errors.Is(err, zone.ErrNoOrigin) {
		return errUsage("%s: the file names no origin (no SOA with an absolute owner, no $ORIGIN): give ORIGIN", opts.file)
	}
	if err != nil {
		if opts.json {
			rep.Error = err.Error()
			if jerr := writeCheckZoneJSON(stdout, rep); jerr != nil {
				return jerr
			}
		}
		return err
	}
	rep.Zone, rep.Records = z.Origin, len(z.Records)
	if soa := z.SOA(); soa != nil {
		rep.Serial = &soa.Serial
	}
	for _, f := range z.Check() {
		if f.File == "" {
			f.File = opts.file
		}
		if f.Severity == zone.Error {
			rep.Errors++
		} else {
			rep.Warnings++
		}
		rep.Findings = append(rep.Findings, f)
	}
	rep.OK = rep.Errors == 0
	if opts.json {
		err = writeCheckZoneJSON(stdout, rep)
	} else {
		err = writeCheckZoneText(stdout, rep)
	}
	switch {
	case err != nil:
		return err
	case !rep.OK:
		return errFindings
	}
	return nil
}

func writeCheckZoneJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeCheckZoneText prints the findings, one a line, and the summary:
// "zone example.test./2024010101: loaded, 12 records, OK".
func writeCheckZoneText(w io.Writer, rep checkZoneReport) error {
	for _, f := range rep.Findings {
		if _, err := fmt.Fprintln(w, f); err != nil {
			return err
		}
	}
	name := rep.Zone
	if rep.Serial != nil {
		name += "/" + strconv.FormatUint(uint64(*rep.Serial), 10)
	}
	verdict := "OK"
	if !rep.OK {
		verdict = checkZonePlural(rep.Errors, "error")
	}
	if rep.Warnings > 0 {
		verdict += ", " + checkZonePlural(rep.Warnings, "warning")
	}
	_, err := fmt.Fprintf(w, "zone %s: loaded, %s, %s\n", name, checkZonePlural(rep.Records, "record"), verdict)
	return err
}

// checkZonePlural formats "1 error" or "2 errors".
func checkZonePlural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
