package lease

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func newManager(t *testing.T, rdb redis.UniversalClient, holder string, ttl time.Duration) *Manager {
	t.Helper()
	m, err := New(rdb, Options{Prefix: "t", TTL: ttl, Holder: holder}, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	require.NoError(t, err)
	return m
}

func TestOneWriterPerFabricWithFencing(t *testing.T) {
	srv := redisenv.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	a := newManager(t, rdb, "a", time.Second)
	b := newManager(t, rdb, "b", time.Second)

	la, err := a.Acquire(ctx, 7)
	require.NoError(t, err)
	require.NoError(t, la.Check(ctx))
	again, err := a.Acquire(ctx, 7) // a second worker of the same replica joins
	require.NoError(t, err)
	require.Equal(t, la.Token(), again.Token())

	_, err = b.Acquire(ctx, 7)
	var held *HeldError
	require.ErrorAs(t, err, &held)
	require.ErrorIs(t, err, ErrHeld)
	require.Equal(t, "a", held.Holder)
	require.Positive(t, held.UnavailableFor())

	// a pauses past its TTL (no renewal): b takes over with a higher token
	time.Sleep(1200 * time.Millisecond)
	lb, err := b.Acquire(ctx, 7)
	require.NoError(t, err)
	require.Greater(t, lb.Token(), la.Token())
	require.ErrorIs(t, la.Check(ctx), ErrLost, "the old holder can no longer push")
	require.ErrorIs(t, la.Cover(ctx, time.Now()), ErrLost, "nor record")
	require.NoError(t, lb.Check(ctx))

	fence := lb.Fence()
	v, err := rdb.Get(ctx, fence.Key).Result()
	require.NoError(t, err)
	require.Equal(t, fence.Value, v)
	bf, ok := b.HeldFence(7)
	require.True(t, ok)
	require.Equal(t, fence, bf)
	_, ok = a.HeldFence(7)
	require.False(t, ok, "a found it lost at its check")
}

func TestRenewalKeepsTheLeaseAndStopReleasesIt(t *testing.T) {
	srv := redisenv.Start(t)
	rdb := srv.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	a := newManager(t, rdb, "a", 600*time.Millisecond)
	b := newManager(t, rdb, "b", 600*time.Millisecond)
	l, err := a.Acquire(ctx, 1)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	time.Sleep(1500 * time.Millisecond) // more than two TTLs, busy all along
	require.NoError(t, l.Check(ctx))
	_, err = b.Acquire(ctx, 1)
	require.ErrorIs(t, err, ErrHeld)
	cancel()
	<-done
	l.Release()
	a.Stop(context.Background())
	_, err = b.Acquire(context.Background(), 1)
	require.NoError(t, err, "released at stop: the fabric moves at once")
}

func TestCoverageOnlyGrows(t *testing.T) {
	srv := redisenv.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	a := newManager(t, rdb, "a", 5*time.Second)
	got, err := a.Covered(ctx, 3)
	require.NoError(t, err)
	require.True(t, got.IsZero())
	l, err := a.Acquire(ctx, 3)
	require.NoError(t, err)
	t1 := time.Unix(100, 0)
	require.NoError(t, l.Cover(ctx, t1))
	require.NoError(t, l.Cover(ctx, time.Unix(50, 0)))
	got, err = newManager(t, rdb, "b", time.Second).Covered(ctx, 3)
	require.NoError(t, err)
	require.True(t, got.Equal(t1), "read by any replica, never moved back: %s", got)
}

func TestFabricsSpreadOverReplicas(t *testing.T) {
	srv := redisenv.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	ms := []*Manager{newManager(t, rdb, "r1", 5*time.Second), newManager(t, rdb, "r2", 5*time.Second), newManager(t, rdb, "r3", 5*time.Second)}
	for range 2 {
		for _, m := range ms {
			m.Tick(ctx)
		}
	}
	owners := map[int64]string{}
	per := map[string]int{}
	for f := int64(1); f <= 30; f++ {
		for _, m := range ms {
			own, err := m.Own(ctx, f)
			require.NoError(t, err)
			if own {
				require.Empty(t, owners[f], "fabric %d owned twice", f)
				owners[f] = m.Holder()
				per[m.Holder()]++
			}
		}
		require.NotEmpty(t, owners[f], "fabric %d owned by nobody", f)
	}
	for _, m := range ms {
		require.GreaterOrEqual(t, per[m.Holder()], 4, "spread: %v", per)
	}
	// r1 stops cleanly: its fabrics move to the others at their next tick
	ms[0].Stop(ctx)
	for _, m := range ms[1:] {
		m.Tick(ctx)
	}
	for f, owner := range owners {
		if owner != "r1" {
			continue
		}
		n := 0
		for _, m := range ms[1:] {
			own, err := m.Own(ctx, f)
			require.NoError(t, err)
			if own {
				n++
			}
		}
		require.Equal(t, 1, n, "fabric %d after r1 stopped", f)
	}
}

func TestRedisDownIsAStoreError(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	m := newManager(t, rdb, "a", time.Second)
	_, err := m.Acquire(context.Background(), 1)
	require.ErrorIs(t, err, ErrStore)
	require.False(t, errors.Is(err, ErrHeld))
}

func TestHealthNamesTheReplicaAndItsFabrics(t *testing.T) {
	srv := redisenv.Start(t)
	ctx := context.Background()
	m := newManager(t, srv.Client(t), "a", 5*time.Second)
	m.Tick(ctx)
	_, err := m.Acquire(ctx, 4)
	require.NoError(t, err)
	r := m.Health(ctx)
	require.Equal(t, "ok", string(r.Status))
	require.Equal(t, []int64{4}, r.Details["fabrics"])
	require.Equal(t, []string{"a"}, r.Details["replicas"])
}
