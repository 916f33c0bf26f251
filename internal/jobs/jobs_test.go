package jobs

import (
	"context"
	"testing"

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
