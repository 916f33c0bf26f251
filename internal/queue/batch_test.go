package queue

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// enqueueAll enqueues one hint for each id at once and returns each one's error.
func enqueueAll(ctx context.Context, q *Queue, ids []int64) map[int64]error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[int64]error{}
	for _, id := range ids {
		wg.Go(func() {
			_, err := q.Enqueue(ctx, hint(id, "updated", "u"))
			mu.Lock()
			out[id] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func span(from, to int64) []int64 {
	var ids []int64
	for id := from; id <= to; id++ {
		ids = append(ids, id)
	}
	return ids
}

func requireHints(t *testing.T, rdb *redis.Client, q *Queue, ids []int64, want int64) {
	t.Helper()
	for _, id := range ids {
		n, err := rdb.LLen(context.Background(), q.keys.hints(NewKey("netbox_hedgehog.vpc", id))).Result()
		require.NoError(t, err)
		require.Equal(t, want, n, "hints of %d", id)
	}
}

// Concurrent hints go to Redis in groups, each exactly once, and a caller's
// own error (a key of the wrong type) reaches that caller only. After
// SCRIPT FLUSH the group is sent again whole, each hint still once.
func TestEnqueueGroupsConcurrentHints(t *testing.T) {
	if testing.Short() {
		t.Skip("needs redis-server")
	}
	srv := redisenv.Start(t)
	rdb := srv.Client(t)
	q := newQueue(t, srv, fastOptions())
	ctx := context.Background()
	require.NoError(t, rdb.Set(ctx, q.keys.hints("netbox_hedgehog.vpc:7"), "not a list", 0).Err())

	ids := span(1, 300)
	errs := enqueueAll(ctx, q, ids)
	for id, err := range errs {
		if id == 7 {
			require.ErrorContains(t, err, "WRONGTYPE")
			continue
		}
		require.NoError(t, err, "hint %d", id)
	}
	requireHints(t, rdb, q, append(span(1, 6), span(8, 300)...), 1)
	flushes := testutil.ToFloat64(q.metrics.flushes)
	require.Less(t, flushes, 300.0, "grouped")
	t.Logf("300 hints in %.0f pipelines", flushes)
	requireStats(t, q, 299, 0, 0)

	require.NoError(t, rdb.ScriptFlush(ctx).Err())
	for id, err := range enqueueAll(ctx, q, span(301, 400)) {
		require.NoError(t, err, "hint %d", id)
	}
	requireHints(t, rdb, q, span(301, 400), 1)
}

// Redis gone: every waiting caller gets an error, none hangs.
func TestEnqueueRedisDownFailsEveryCaller(t *testing.T) {
	if testing.Short() {
		t.Skip("needs redis-server")
	}
	srv := redisenv.Start(t)
	q := newQueue(t, srv, fastOptions())
	srv.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errs := enqueueAll(ctx, q, span(1, 50))
	require.Len(t, errs, 50)
	for id, err := range errs {
		require.Error(t, err, "hint %d", id)
		require.NotErrorIs(t, err, context.DeadlineExceeded, "hint %d: the connection error, not a timeout", id)
	}
}

// With WaitReplicas and no replica, every hint of a group is recorded and
// every caller gets ErrNotReplicated.
func TestEnqueueGroupNotReplicated(t *testing.T) {
	if testing.Short() {
		t.Skip("needs redis-server")
	}
	srv := redisenv.Start(t)
	opts := fastOptions()
	opts.WaitReplicas, opts.WaitTimeout = 1, 50*time.Millisecond
	q := newQueue(t, srv, opts)
	ids := span(1, 40)
	for id, err := range enqueueAll(context.Background(), q, ids) {
		require.ErrorIs(t, err, ErrNotReplicated, "hint %d", id)
	}
	requireHints(t, srv.Client(t), q, ids, 1)
	require.EqualValues(t, 40, testutil.ToFloat64(q.metrics.unreplicated))
}

// A caller cancelled while its hint waits for the flush in flight is
// withdrawn (never written); the others are written once.
func TestBatcherCancelledCallerIsWithdrawn(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var flushed []string
	b := &batcher{max: 100, flights: 1, noDeadline: time.Second, flush: func(_ context.Context, group []*enqueueCall) {
		mu.Lock()
		first := len(flushed) == 0
		for _, c := range group {
			flushed = append(flushed, c.args[0].(string))
			c.n = len(c.args[0].(string))
		}
		mu.Unlock()
		if first {
			<-release // the flush in flight; the others wait in pending
		}
	}}
	call := func(ctx context.Context, name string) (int, error) {
		return b.do(ctx, &enqueueCall{args: []any{name}})
	}
	first := make(chan error, 1)
	go func() { _, err := call(context.Background(), "a"); first <- err }()
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(flushed) == 1 }, 2*time.Second, time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error, 1)
	go func() { _, err := call(ctx, "cancelled"); cancelled <- err }()
	others := make(chan error, 2)
	for _, n := range []string{"bb", "ccc"} {
		go func() {
			got, err := call(context.Background(), n)
			if err == nil && got != len(n) {
				err = errors.New("another caller's result")
			}
			others <- err
		}()
	}
	require.Eventually(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.pending) == 3 }, 2*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-cancelled, context.Canceled)
	close(release)
	require.NoError(t, <-first)
	require.NoError(t, <-others)
	require.NoError(t, <-others)
	mu.Lock()
	defer mu.Unlock()
	require.ElementsMatch(t, []string{"a", "bb", "ccc"}, flushed)
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Zero(t, b.flushing, "the flushing goroutine ends when nothing is pending")
}

// A caller that gives up while its group is in flight does not cut the
// group's write short: the flush runs under the others' later deadline.
func TestBatcherFlushOutlivesAnEarlyDeadline(t *testing.T) {
	got := make(chan time.Time, 1)
	b := &batcher{max: 10, flights: 1, noDeadline: time.Minute, flush: func(ctx context.Context, group []*enqueueCall) {
		d, _ := ctx.Deadline()
		got <- d
	}}
	short, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.mu.Lock() // both join one group
	b.flushing = 1
	late := time.Now().Add(2 * time.Hour)
	b.pending = []*enqueueCall{{done: make(chan struct{})}, {done: make(chan struct{})}}
	b.pending[0].deadline, _ = short.Deadline()
	b.pending[1].deadline = late
	b.mu.Unlock()
	b.loop()
	require.WithinDuration(t, late, <-got, time.Millisecond)
}

func TestEnqueueBatchValidated(t *testing.T) {
	o := fastOptions()
	o.EnqueueBatch = 0
	require.ErrorContains(t, o.validate(), "enqueue batch")
}

// A flush that panics fails its group's calls, none told its hint was
// recorded, and the batcher keeps working for the next ones.
func TestBatcherSurvivesAPanickingFlush(t *testing.T) {
	var calls atomic.Int64
	b := &batcher{max: 100, flights: 1, noDeadline: time.Second, flush: func(_ context.Context, group []*enqueueCall) {
		if calls.Add(1) == 1 {
			group[0].n = 1 // as if recorded, then the panic: still an error
			panic("boom")
		}
		for _, c := range group {
			c.n = 1
		}
	}}
	n, err := b.do(context.Background(), &enqueueCall{args: []any{"a"}})
	require.ErrorIs(t, err, errFlushPanicked)
	require.Zero(t, n)
	for range 5 { // the batcher's flights are not used up
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		n, err = b.do(ctx, &enqueueCall{args: []any{"b"}})
		cancel()
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}
}
