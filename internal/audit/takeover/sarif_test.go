package takeover_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/rensa-dns/rensa/internal/audit/takeover"
	"github.com/rensa-dns/rensa/internal/transport"
)

// TestTakeoverSARIFShape checks the fields SARIF 2.1.0 requires ($schema,
// version, runs[].tool.driver.name, results[].message) and the ones code
// scanning needs (ruleId resolvable in the driver's rules, level,
// locations with a physical or logical location).
func TestTakeoverSARIFShape(t *testing.T) {
	t.Parallel()
	rep := takeover.Report{Scanned: 2, Findings: []takeover.Finding{
		{Record: "sub.example.test.\t300\tIN\tCNAME\tsub.example.cdnprovider.test.", Owner: "sub.example.test.", Type: "CNAME",
			Target: "sub.example.cdnprovider.test.", Reason: takeover.ReasonNXDomain, Detail: "NXDOMAIN",
			Severity: takeover.Medium, Confidence: takeover.ConfidenceMedium, File: "example.test.zone", Line: 12},
		{Record: "x.example.test. MX 10 mx.gone.test.", Owner: "x.example.test.", Type: "MX", Target: "mx.gone.test.",
			Reason: takeover.ReasonUnregistered, Detail: "gone.test not registered", Severity: takeover.Critical, Confidence: takeover.ConfidenceHigh},
	}}
	var buf bytes.Buffer
	if err := takeover.WriteSARIF(&buf, rep, "test"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Schema  *string `json:"$schema"`
		Version string  `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results *[]struct {
				RuleID  string `json:"ruleId"`
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
					LogicalLocations []struct {
						Name string `json:"name"`
					} `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	dec := json.NewDecoder(&buf)
	if err := dec.Decode(&log); err != nil {
		t.Fatal(err)
	}
	if log.Schema == nil || *log.Schema != takeover.SARIFSchema || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("log header: %+v", log)
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "rensa" || run.Results == nil || len(*run.Results) != 2 {
		t.Fatalf("run: %+v", run)
	}
	rules := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		rules[r.ID] = true
	}
	levels := map[string]bool{"none": true, "note": true, "warning": true, "error": true}
	for i, r := range *run.Results {
		if !rules[r.RuleID] || !levels[r.Level] || r.Message.Text == "" || len(r.Locations) == 0 {
			t.Errorf("result %d: %+v", i, r)
			continue
		}
		loc := r.Locations[0]
		if loc.PhysicalLocation == nil && len(loc.LogicalLocations) == 0 {
			t.Errorf("result %d has no location", i)
		}
	}
	first := (*run.Results)[0].Locations[0]
	if first.PhysicalLocation == nil || first.PhysicalLocation.ArtifactLocation.URI != "example.test.zone" || first.PhysicalLocation.Region.StartLine != 12 {
		t.Errorf("physical location: %+v", first.PhysicalLocation)
	}
	if (*run.Results)[1].Level != "error" || (*run.Results)[0].Level != "warning" {
		t.Error("levels")
	}
}

// TestTakeoverResolverDown: a resolver that never answers fails the scan;
// it is not an empty report.
func TestTakeoverResolverDown(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s, err := takeover.New(takeover.Config{Resolver: &transport.Do53{Addr: pc.LocalAddr().String(), Timeout: 200 * time.Millisecond}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := takeover.FromRR(mustRR(t, "a.example.test. CNAME b.example.test."))
	if _, err := s.Scan(context.Background(), []takeover.Record{rec}); !errors.Is(err, takeover.ErrResolver) {
		t.Errorf("Scan: %v, want ErrResolver", err)
	}
	if _, _, err := s.Discover(context.Background(), []string{"a.example.test"}); !errors.Is(err, takeover.ErrResolver) {
		t.Errorf("Discover: %v, want ErrResolver", err)
	}
}
