package main

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// floodCount sends n identical UDP queries one after another and counts
// full answers, slipped (TC=1, empty) replies and queries left unanswered
// within the per-query timeout.
func floodCount(t *testing.T, addr string, n int, timeout time.Duration) (answered, slipped, dropped int) {
	t.Helper()
	c := dns.Client{Timeout: timeout}
	for i := 0; i < n; i++ {
		m := new(dns.Msg)
		m.SetQuestion("www.example.test.", dns.TypeA)
		r, _, err := c.Exchange(m, addr)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			dropped++
		case err != nil:
			t.Fatalf("query %d: %v", i, err)
		case r.Truncated && len(r.Answer) == 0:
			slipped++
		default:
			answered++
		}
	}
	return answered, slipped, dropped
}

// TestAuthRateLimitsByDefault checks that "rensa auth" puts response rate
// limiting in front of its engine unless told otherwise: a burst of 30
// identical queries from one client gets a handful of answers, then slips
// and drops; with --no-rrl every query is answered.
func TestAuthRateLimitsByDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "example.test.zone")
	writeFile(t, file, zoneV1)
	for _, tc := range []struct {
		name  string
		noRRL bool
	}{{"defaults", false}, {"no-rrl", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := authOptions{listen: []string{"127.0.0.1:0"}, zones: []zoneSource{{file: file}}, noRRL: tc.noRRL}
			_, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
				return runAuth(ctx, opts, stdout, stderr)
			})
			m, _ := stderr.waitFor(t, 0, `rensa: listening on udp (\S+), tcp`)
			const burst = 30
			// Where drops are expected a short wait marks them; where none
			// are, a long one keeps a slow machine from faking a drop.
			wait := 150 * time.Millisecond
			if tc.noRRL {
				wait = 2 * time.Second
			}
			answered, slipped, dropped := floodCount(t, m[1], burst, wait)
			t.Logf("%s: %d answered, %d slipped, %d dropped of %d", tc.name, answered, slipped, dropped, burst)
			if tc.noRRL {
				if answered != burst {
					t.Errorf("with --no-rrl: %d of %d answered", answered, burst)
				}
				return
			}
			if answered > burst/2 || slipped == 0 || dropped == 0 {
				t.Errorf("with defaults: %d answered, %d slipped, %d dropped of %d; want rate limiting with slip", answered, slipped, dropped, burst)
			}
		})
	}
}
