package resolver

import (
	"context"
	"sync"
	"time"
)

// A client query is bounded by maxQueryTime. context.WithTimeout would
// start a runtime timer for every query and stop it when the query ends,
// and link the query into its parent's children: 1.6 % of the CPU of a
// cold miss, for a timer that almost never fires. The query's steps do
// not need it: send checks ctx.Err() before every upstream exchange, and
// the default exchange ends each attempt by a socket deadline no later
// than ctx.Deadline(). So the query's context knows its deadline and
// compares the clock with it when asked for Err; only when something
// waits on Done (a caller's own exchange, a validator's fetch through a
// TCP dial, a context derived from it) is a real timer made, lazily,
// once. The parent's cancellation is seen at once by Err, and by Done
// through that timer's context, exactly as with context.WithTimeout.

// queryContext is a context.Context that ends at deadline, or when its
// parent ends, or when cancelled, without a timer until Done is called.
type queryContext struct {
	context.Context // the parent: its values, its cancellation

	deadline time.Time

	mu        sync.Mutex
	cancelled bool               // guarded by mu: the CancelFunc was called
	timed     context.Context    // guarded by mu: made by the first Done
	stop      context.CancelFunc // guarded by mu: timed's
}

// withQueryDeadline returns a context ending after d, or with parent if
// that is sooner, and the function that cancels it (call it when the
// query is done, as with context.WithTimeout).
func withQueryDeadline(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(d)
	if pd, ok := parent.Deadline(); ok && pd.Before(deadline) {
		deadline = pd
	}
	c := &queryContext{Context: parent, deadline: deadline}
	return c, c.cancel
}

// Deadline reports the query's deadline (the parent's when sooner).
func (c *queryContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Err reports why the query's context ended, as context.WithTimeout's
// would: Canceled after cancel, the parent's error once the parent
// ended, DeadlineExceeded once the deadline passed, nil before.
func (c *queryContext) Err() error {
	c.mu.Lock()
	cancelled, timed := c.cancelled, c.timed
	c.mu.Unlock()
	switch {
	case timed != nil:
		return timed.Err()
	case cancelled:
		return context.Canceled
	}
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Done returns a channel closed when the context ends. The first call
// makes the timer that closes it at the deadline.
func (c *queryContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timed == nil {
		c.timed, c.stop = context.WithDeadline(c.Context, c.deadline)
		if c.cancelled {
			c.stop()
		}
	}
	return c.timed.Done()
}

// cancel ends the context and releases the timer, if one was made.
func (c *queryContext) cancel() {
	c.mu.Lock()
	c.cancelled = true
	stop := c.stop
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// String names the context, for debugging output.
func (c *queryContext) String() string { return "resolver.queryContext" }
