package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func TestStore(t *testing.T) {
	srv := redisenv.Start(t)
	s := New(srv.Client(t), "t")
	ctx := context.Background()
	j, err := s.Create(ctx, 7)
	require.NoError(t, err)
	require.Len(t, j.ID, 16)
	require.Equal(t, Queued, j.State)
	require.NoError(t, s.Update(ctx, j.ID, func(j *Job) { j.State, j.Commit = Succeeded, "abc" }))
	got, err := s.Get(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, Succeeded, got.State)
	require.Equal(t, int64(7), got.Fabric)
	require.Equal(t, "abc", got.Commit)
	_, err = s.Get(ctx, "nope")
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, s.Update(ctx, "nope", func(*Job) {}), ErrNotFound)
}

// One queued re-sync per fabric: requests while it waits get it back,
// concurrent ones too; once it runs, the next request makes a new one; a
// job never picked up is shown failed and replaced.
func TestResyncOneQueuedJobPerFabric(t *testing.T) {
	srv := redisenv.Start(t)
	rdb := srv.Client(t)
	s := New(rdb, "t")
	ctx := context.Background()
	first, created, err := s.Resync(ctx, 3)
	require.NoError(t, err)
	require.True(t, created)
	var wg sync.WaitGroup
	ids := make(chan string, 300)
	for range 300 {
		wg.Go(func() {
			j, created, err := s.Resync(ctx, 3)
			if err == nil && !created {
				ids <- j.ID
			}
		})
	}
	wg.Wait()
	close(ids)
	n := 0
	for id := range ids {
		require.Equal(t, first.ID, id)
		n++
	}
	require.Equal(t, 300, n)
	keys, err := rdb.Keys(ctx, "{t}:job:*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1, "300 re-syncs, one job")

	other, created, err := s.Resync(ctx, 4)
	require.NoError(t, err)
	require.True(t, created, "another fabric has its own")
	require.NotEqual(t, first.ID, other.ID)

	require.NoError(t, s.Update(ctx, first.ID, func(j *Job) { j.State = Running }))
	second, created, err := s.Resync(ctx, 3)
	require.NoError(t, err)
	require.True(t, created, "a running job is not reused")
	require.NotEqual(t, first.ID, second.ID)

	later := time.Now().Add(DefaultStaleAfter + time.Minute)
	s.now = func() time.Time { return later }
	got, err := s.Get(ctx, second.ID)
	require.NoError(t, err)
	require.Equal(t, Failed, got.State, "never picked up: not queued forever")
	require.Contains(t, got.Error, "request a new re-sync")
	third, created, err := s.Resync(ctx, 3)
	require.NoError(t, err)
	require.True(t, created)
	require.NotEqual(t, second.ID, third.ID)
}
