package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRunCheckZoneJSON decodes the --json report of a zone with one error
// and one warning and checks its counts agree with its findings.
func TestRunCheckZoneJSON(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "db.example.test")
	text := "$TTL 60\n@ IN SOA ns1 hostmaster 9 2 3 4 5\n@ IN NS ns1\n@ IN NS ns2\nns1 IN A 192.0.2.1\n" +
		"www.example.org. IN A 192.0.2.2\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := runCheckZone(context.Background(), checkZoneOptions{json: true, file: file, origin: "example.test."}, &stdout, &stderr)
	if !errors.Is(err, errFindings) {
		t.Fatalf("error %v, want errFindings", err)
	}
	var rep checkZoneReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("decoding %s: %v", stdout.String(), err)
	}
	if rep.OK || rep.Errors != 1 || rep.Warnings != 1 || len(rep.Findings) != 2 || rep.Serial == nil || *rep.Serial != 9 {
		t.Errorf("report %+v", rep)
	}
	for _, f := range rep.Findings {
		if f.File != file || f.Line == 0 {
			t.Errorf("finding without position: %+v", f)
		}
	}
}

func TestCheckZonePlural(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0 errors", 1: "1 error", 2: "2 errors"} {
		if got := checkZonePlural(n, "error"); got != want {
			t.Errorf("checkZonePlural(%d) = %q, want %q", n, got, want)
		}
	}
}
