package queue

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func TestFailuresRetryWithBackoffThenDeadLetter(t *testing.T) {
	srv := redisenv.Start(t)
	opts := fastOptions()
	opts.MaxAttempts = 3
	q := newQueue(t, srv, opts)
	ctx := context.Background()
	var fail = true
	rec := newRecorder(func(context.Context, Item) error {
		if fail {
			return errors.New("netbox: 502 bad gateway")
		}
		return nil
	})
	stop := run(t, q, rec)
	_, err := q.Enqueue(ctx, hint(3, "updated", "carol"))
	require.NoError(t, err)
	var times []time.Time
	for want := 1; want <= 3; want++ {
		it := waitItem(t, rec)
		require.Equal(t, want, it.Attempt)
		require.Len(t, it.Hints, 1, "hints survive failed runs")
		times = append(times, time.Now())
	}
	require.GreaterOrEqual(t, times[1].Sub(times[0]), opts.Backoff.Base/2)
	requireQuiet(t, rec, 300*time.Millisecond)
	requireStats(t, q, 0, 0, 1)

	dl, err := q.DeadLetters(ctx)
	require.NoError(t, err)
	require.Len(t, dl, 1)
	require.Equal(t, NewKey("netbox_hedgehog.vpc", 3), dl[0].Key)
	require.Equal(t, "netbox: 502 bad gateway", dl[0].Error)
	require.Equal(t, 3, dl[0].Attempts)
	require.Len(t, dl[0].Hints, 1)
	require.Equal(t, "carol", dl[0].Hints[0].User)

	// Replay runs it again from attempt 1, with its hints.
	stop()
	fail = false
	require.ErrorIs(t, q.Replay(ctx, "netbox_hedgehog.vpc:99"), ErrNotFound)
	require.ErrorIs(t, q.Replay(ctx, "nonsense"), ErrBadKey)
	require.NoError(t, q.Replay(ctx, dl[0].Key))
	run(t, q, rec)
	it := waitItem(t, rec)
	require.Equal(t, 1, it.Attempt)
	require.Len(t, it.Hints, 1)
	requireStats(t, q, 0, 0, 0)
}

func TestNewHintRevivesDeadLetter(t *testing.T) {
	srv := redisenv.Start(t)
	opts := fastOptions()
	opts.MaxAttempts = 1
	q := newQueue(t, srv, opts)
	ctx := context.Background()
	fail := make(chan bool, 10)
	fail <- true
	rec := newRecorder(func(context.Context, Item) error {
		if <-fail {
			return errors.New("boom")
		}
		return nil
	})
	run(t, q, rec)
	_, err := q.Enqueue(ctx, hint(4, "updated", "a"))
	require.NoError(t, err)
	waitItem(t, rec)
	requireStats(t, q, 0, 0, 1)
	fail <- false
	res, err := q.Enqueue(ctx, hint(4, "updated", "b"))
	require.NoError(t, err)
	require.Equal(t, Queued, res)
	it := waitItem(t, rec)
	require.Equal(t, 1, it.Attempt)
	require.Len(t, it.Hints, 2, "the dead letter's hints come along")
	requireStats(t, q, 0, 0, 0)
}

func TestHintAcceptedBeforeCrashIsProcessedByNextProcess(t *testing.T) {
	srv := redisenv.Start(t)
	ctx := context.Background()
	first := newQueue(t, srv, fastOptions())
	_, err := first.Enqueue(ctx, hint(5, "created", "dave"))
	require.NoError(t, err)
	// The first process dies here, before any worker ran. Redis is
	// restarted too: the append-only file keeps the hint.
	srv.Stop()
	srv2, err := redisenv.RunOn(srv.Binary(), srv.Dir, srv.Port())
	require.NoError(t, err)
	t.Cleanup(srv2.Stop)

	rec := newRecorder(nil)
	run(t, newQueue(t, srv2, fastOptions()), rec)
	it := waitItem(t, rec)
	require.Equal(t, "dave", it.Hints[0].User)
}

func TestKeyOfProcessThatDiedDuringRunIsTakenBack(t *testing.T) {
	srv := redisenv.Start(t)
	ctx := context.Background()
	opts := fastOptions()
	dead := newQueue(t, srv, opts)
	_, err := dead.Enqueue(ctx, hint(6, "updated", "erin"))
	require.NoError(t, err)
	time.Sleep(opts.CoalesceWindow)
	// A worker claims the key and its process dies mid-run: no ack, no
	// lease renewal.
	items, _, err := dead.claim(ctx, 1, "dead-1")
	require.NoError(t, err)
	require.Len(t, items, 1)
	requireStats(t, dead, 0, 1, 0)
	_, err = dead.Enqueue(ctx, hint(6, "updated", "frank"))
	require.NoError(t, err)

	rec := newRecorder(nil)
	alive := newQueue(t, srv, opts)
	start := time.Now()
	run(t, alive, rec)
	it := waitItem(t, rec)
	require.GreaterOrEqual(t, time.Since(start), opts.Lease/2)
	require.Equal(t, 2, it.Attempt, "a run that died counts as an attempt")
	require.Len(t, it.Hints, 2, "the dead run's hints first, then the newer one")
	require.Equal(t, "erin", it.Hints[0].User)
	require.Equal(t, "frank", it.Hints[1].User)
	requireQuiet(t, rec, 300*time.Millisecond)
	requireStats(t, alive, 0, 0, 0)

	// The dead worker's late ack cannot settle a key it no longer holds.
	held, err := dead.ack(ctx, items[0].Key, "dead-1")
	require.NoError(t, err)
	require.False(t, held)
}

func TestShutdownFinishesRunningWork(t *testing.T) {
	srv := redisenv.Start(t)
	q := newQueue(t, srv, fastOptions())
	started := make(chan struct{})
	rec := newRecorder(func(context.Context, Item) error {
		close(started)
		time.Sleep(200 * time.Millisecond)
		return nil
	})
	stop := run(t, q, rec)
	_, err := q.Enqueue(context.Background(), hint(8, "updated", ""))
	require.NoError(t, err)
	<-started
	stop()
	requireStats(t, q, 0, 0, 0)
}

func TestShutdownHandsBackWorkPastGrace(t *testing.T) {
	srv := redisenv.Start(t)
	opts := fastOptions()
	opts.ShutdownGrace = 100 * time.Millisecond
	q := newQueue(t, srv, opts)
	started := make(chan struct{})
	rec := newRecorder(func(ctx context.Context, _ Item) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	stop := run(t, q, rec)
	_, err := q.Enqueue(context.Background(), hint(9, "deleted", "gina"))
	require.NoError(t, err)
	<-started
	stop()
	requireStats(t, q, 1, 0, 0)

	rec2 := newRecorder(nil)
	run(t, newQueue(t, srv, opts), rec2)
	it := waitItem(t, rec2)
	require.Equal(t, 1, it.Attempt, "a handed-back run is not a failed attempt")
	require.Equal(t, "gina", it.Hints[0].User)
}

func TestPanickingHandlerIsAFailedRun(t *testing.T) {
	srv := redisenv.Start(t)
	opts := fastOptions()
	opts.MaxAttempts = 1
	q := newQueue(t, srv, opts)
	rec := newRecorder(func(context.Context, Item) error { panic("bad object") })
	run(t, q, rec)
	_, err := q.Enqueue(context.Background(), hint(10, "updated", ""))
	require.NoError(t, err)
	waitItem(t, rec)
	requireStats(t, q, 0, 0, 1)
	dl, err := q.DeadLetters(context.Background())
	require.NoError(t, err)
	require.Contains(t, dl[0].Error, "panic: queue.handler: bad object")
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: time.Second, Max: time.Minute}
	for _, tt := range []struct {
		attempt  int
		min, max time.Duration
	}{
		{0, 500 * time.Millisecond, time.Second},
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{4, 4 * time.Second, 8 * time.Second},
		{7, 30 * time.Second, time.Minute},
		{100, 30 * time.Second, time.Minute},
	} {
		for range 50 {
			d := b.Delay(tt.attempt)
			require.GreaterOrEqual(t, d, tt.min, "attempt %d", tt.attempt)
			require.LessOrEqual(t, d, tt.max, "attempt %d", tt.attempt)
		}
	}
}

func TestParseKey(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"netbox_hedgehog.vpc:12", true},
		{"netbox_hedgehog.vpc:0", false},
		{"netbox_hedgehog.vpc:-1", false},
		{"netbox_hedgehog.vpc", false},
		{":12", false},
		{"a/b:1", false},
		{"a:b:1", false},
		{"a{x}:1", false},
	} {
		_, _, err := ParseKey(tt.in)
		require.Equal(t, tt.ok, err == nil, tt.in)
	}
}

// downErr is what an open circuit breaker answers.
type downErr struct{ d time.Duration }

func (e downErr) Error() string                 { return "breaker: git: circuit open" }
func (e downErr) UnavailableFor() time.Duration { return e.d }

// While a dependency is unavailable (an open breaker) a key waits and runs
// again, as often as it takes, without an attempt counted: it is never
// dead-lettered for that alone, and keeps its hints.
func TestUnavailableDependencyIsNotAFailedAttempt(t *testing.T) {
	srv := redisenv.Start(t)
	opts := fastOptions()
	opts.MaxAttempts = 2
	q := newQueue(t, srv, opts)
	ctx := context.Background()
	var runs atomic.Int64
	rec := newRecorder(func(context.Context, Item) error {
		if runs.Add(1) <= 5 {
			return fmt.Errorf("reconcile: fabric f: %w", downErr{d: time.Millisecond})
		}
		return nil
	})
	run(t, q, rec)
	_, err := q.Enqueue(ctx, hint(4, "updated", "dave"))
	require.NoError(t, err)
	for range 6 {
		it := waitItem(t, rec)
		require.Equal(t, 1, it.Attempt, "no attempt counted")
		require.Len(t, it.Hints, 1)
	}
	requireQuiet(t, rec, 300*time.Millisecond)
	requireStats(t, q, 0, 0, 0)
}
