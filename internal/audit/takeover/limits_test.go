package takeover_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rensa-dns/rensa/internal/audit/takeover"
	"github.com/rensa-dns/rensa/internal/transport"
)

// TestTakeoverLimits: a scan or discovery over MaxRecords is refused
// before a single query is sent.
func TestTakeoverLimits(t *testing.T) {
	t.Parallel()
	s, err := takeover.New(takeover.Config{Resolver: &transport.Do53{Addr: "127.0.0.1:9"}})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]takeover.Record, takeover.MaxRecords+1)
	if _, err := s.Scan(context.Background(), recs); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("Scan of %d records: %v", len(recs), err)
	}
	names := make([]string, takeover.MaxRecords+1)
	if _, _, err := s.Discover(context.Background(), names); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("Discover of %d names: %v", len(names), err)
	}
	if _, err := takeover.ParseFingerprints(make([]byte, takeover.MaxFingerprintsFile+1)); err == nil {
		t.Error("oversized fingerprints file accepted")
	}
}
