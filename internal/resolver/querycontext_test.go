package resolver

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestQueryContextEndsLikeWithTimeout checks that a query's context ends
// as context.WithTimeout's would, without a timer: at its deadline (seen
// by Err alone, and by Done), with its parent, and when cancelled; and
// that it is derived from its parent.
func TestQueryContextEndsLikeWithTimeout(t *testing.T) {
	t.Parallel()
	type key struct{}
	parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	defer cancelParent()

	ctx, cancel := withQueryDeadline(parent, time.Hour)
	if err := ctx.Err(); err != nil {
		t.Errorf("fresh context: Err %v", err)
	}
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) < 59*time.Minute {
		t.Errorf("Deadline %v %v, want about an hour from now", dl, ok)
	}
	if ctx.Value(key{}) != "v" {
		t.Error("the parent's value is lost")
	}
	cancel()
	if err := ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: Err %v, want Canceled", err)
	}
	<-ctx.Done() // closed: a Done asked after cancel is already closed

	past, cancel := withQueryDeadline(parent, -time.Second)
	defer cancel()
	if err := past.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past its deadline, Done never asked: Err %v, want DeadlineExceeded", err)
	}
	short, cancel := withQueryDeadline(parent, 20*time.Millisecond)
	defer cancel()
	<-short.Done() // the timer made by Done closes it at the deadline
	if err := short.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("after Done closed at the deadline: Err %v", err)
	}

	withParent, cancel := withQueryDeadline(parent, time.Hour)
	defer cancel()
	asked, cancel := withQueryDeadline(parent, time.Hour)
	defer cancel()
	done := asked.Done()
	cancelParent()
	<-done
	for _, c := range []context.Context{withParent, asked} {
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("parent cancelled: Err %v, want Canceled", err)
		}
	}

	soon, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	inner, cancel := withQueryDeadline(soon, time.Hour)
	defer cancel()
	if a, _ := inner.Deadline(); !a.Equal(func() time.Time { d, _ := soon.Deadline(); return d }()) {
		t.Errorf("Deadline %v, want the parent's, which is sooner", a)
	}
}

// TestQueryContextHasNoTimer checks that a query's context whose Done is
// never asked costs two allocations, the context and its cancel func: no
// timer, no link into its parent (context.WithTimeout makes four objects
// and starts a runtime timer).
func TestQueryContextHasNoTimer(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() {
		c, cancel := withQueryDeadline(context.Background(), time.Hour)
		_ = c.Err()
		_, _ = c.Deadline()
		cancel()
	}); n > 2 {
		t.Errorf("a query's context without Done: %v allocations, want 2 (no timer)", n)
	}
}

// TestResolveCancelledStopsWork cancels the client's query while its first
// upstream exchange is out: the resolution stops there (no further
// upstream query) and fails, whether the resolver's own exchange bounds
// the attempt (no context per attempt, and no timer per query) or a
// caller's exchange gets a context per attempt.
func TestResolveCancelledStopsWork(t *testing.T) {
	t.Parallel()
	for _, own := range []bool{true, false} {
		f := newFakeWorld(t, "")
		r := newFakeResolver(t, f, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		var sent atomic.Int32
		r.cfg.Exchange = func(actx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
			sent.Add(1)
			cancel() // the client gives up while this exchange is out
			return f.exchange(actx, server, m, tcp)
		}
		r.ownExchange = own
		res := r.Resolve(ctx, "www.example.test.", dns.TypeA)
		if res.Kind != KindServFail || sent.Load() != 1 {
			t.Errorf("own exchange %v: %v after %d upstream queries, want SERVFAIL after 1", own, res.Kind, sent.Load())
		}
	}
}
