package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// One installation per fabric across replicas: a second taker learns the
// holder's job; a release by a stale holder leaves the lock alone.
func TestLockInstall(t *testing.T) {
	rdb := redisenv.Start(t).Client(t)
	a, b := New(rdb, "t"), New(rdb, "t") // two replicas
	ctx := context.Background()
	l, running, err := a.LockInstall(ctx, 3, time.Minute)
	require.NoError(t, err)
	require.NotNil(t, l)
	require.Empty(t, running)
	require.NoError(t, l.Hold(ctx, "job-1"))

	none, running, err := b.LockInstall(ctx, 3, time.Minute)
	require.NoError(t, err)
	require.Nil(t, none)
	require.Equal(t, "job-1", running)
	other, _, err := b.LockInstall(ctx, 4, time.Minute)
	require.NoError(t, err)
	require.NotNil(t, other, "another fabric's lock is free")

	stale := &Lock{rdb: rdb, key: l.key, value: "job-0"}
	stale.Release(ctx)
	_, running, _ = b.LockInstall(ctx, 3, time.Minute)
	require.Equal(t, "job-1", running, "only the holder releases")
	l.Release(ctx)
	again, _, err := b.LockInstall(ctx, 3, time.Minute)
	require.NoError(t, err)
	require.NotNil(t, again)
}
