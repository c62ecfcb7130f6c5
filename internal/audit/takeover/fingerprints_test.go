package takeover_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rensa-dns/rensa/internal/audit/takeover"
)

// conformance is ../shared/conformance relative to the repository root.
var conformance = filepath.Join("..", "..", "..", "..", "shared", "conformance")

// TestTakeoverEmbeddedFingerprintsAreTheConformanceData checks that the shipped
// copy is the conformance folder's can-i-take-over-xyz data, byte for
// byte, with its licence beside it.
func TestTakeoverEmbeddedFingerprintsAreTheConformanceData(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"can-i-take-over-xyz.fingerprints.json", "LICENSE.can-i-take-over-xyz"} {
		want, err := os.ReadFile(filepath.Join(conformance, "takeover", name))
		if errors.Is(err, os.ErrNotExist) {
			t.Skipf("conformance data not present: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("data", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("data/%s differs from the conformance copy: update it", name)
		}
	}
}

func TestTakeoverDefaultFingerprints(t *testing.T) {
	t.Parallel()
	fps, err := takeover.DefaultFingerprints()
	if err != nil {
		t.Fatal(err)
	}
	if len(fps) < 50 {
		t.Fatalf("%d fingerprints", len(fps))
	}
	byService := map[string]*takeover.Fingerprint{}
	for i := range fps {
		byService[fps[i].Service] = &fps[i]
	}
	for _, tc := range []struct {
		service, name string
		match         bool
	}{
		{"AWS/S3", "bucket.s3.amazonaws.com.", true},
		{"AWS/S3", "s3.amazonaws.com", true},
		{"AWS/S3", "evils3.amazonaws.com.", false},
		{"Microsoft Azure", "app.azurewebsites.net.", true},
		{"AWS/Elastic Beanstalk", "example.com.", false},
	} {
		f := byService[tc.service]
		if f == nil {
			t.Fatalf("no service %q", tc.service)
		}
		if got := f.MatchesName(tc.name); got != tc.match {
			t.Errorf("%s matches %s = %v, want %v", tc.service, tc.name, got, tc.match)
		}
	}
	s3 := byService["AWS/S3"]
	if !s3.HasPage() || !s3.MatchesPage(404, []byte("<Message>The specified bucket does not exist</Message>")) || s3.MatchesPage(200, []byte("hello")) {
		t.Error("S3 page fingerprint")
	}
	// A "|" written as "&#124;" (the file comes from Markdown) is an
	// alternation.
	if ghost := byService["Ghost"]; !ghost.MatchesPage(200, []byte("Failed to resolve DNS path for this host")) {
		t.Error("Ghost alternation")
	}
	if f := byService["LaunchRock"]; !f.MatchesPage(500, nil) || f.MatchesPage(200, nil) {
		t.Error("HTTP_STATUS fingerprint")
	}
}

func TestTakeoverParseFingerprintsErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{`, `{"service":"x"}`, `[{"cname":["a.example"]}]`, `[{"service":"x","fingerprint":"HTTP_STATUS=abc"}]`} {
		if _, err := takeover.ParseFingerprints([]byte(in)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
	fps, err := takeover.ParseFingerprints([]byte(`[{"service":"CDN","cname":["cdnprovider.test","192.0.2.1","https://x/"],"fingerprint":"no such app","status":"Vulnerable","vulnerable":true}]`))
	if err != nil || !fps[0].MatchesName("a.cdnprovider.test.") || !fps[0].MatchesPage(404, []byte("No Such App")) {
		t.Errorf("custom fingerprint: %v %+v", err, fps)
	}
}
