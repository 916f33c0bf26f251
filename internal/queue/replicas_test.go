package queue

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// TestEnqueueWaitsForReplicas: with WaitReplicas, Enqueue returns nil only
// once a replica has the hint (read back from the replica itself), and
// ErrNotReplicated, with the hint still recorded, when none answers.
func TestEnqueueWaitsForReplicas(t *testing.T) {
	srv := redisenv.Start(t)
	ctx := context.Background()
	opts := fastOptions()
	opts.WaitReplicas, opts.WaitTimeout = 1, 50*time.Millisecond

	t.Run("no replica", func(t *testing.T) {
		q := newQueue(t, srv, opts)
		start := time.Now()
		res, err := q.Enqueue(ctx, hint(1, "updated", "u"))
		require.ErrorIs(t, err, ErrNotReplicated)
		require.GreaterOrEqual(t, time.Since(start), opts.WaitTimeout)
		require.Equal(t, Queued, res)
		n, err := srv.Client(t).LLen(ctx, q.keys.hints("netbox_hedgehog.vpc:1")).Result()
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "the hint is on the primary all the same")
		require.EqualValues(t, 1, testutil.ToFloat64(q.metrics.unreplicated))
	})

	t.Run("a replica acknowledges", func(t *testing.T) {
		replica := redisenv.StartReplica(t, srv)
		opts := opts
		opts.WaitTimeout = 5 * time.Second // a loaded machine; the replica answers in well under a millisecond
		q := newQueue(t, srv, opts)
		require.NoError(t, srv.Client(t).ScriptFlush(ctx).Err()) // the NOSCRIPT fallback, too
		for id := int64(2); id < 20; id++ {
			_, err := q.Enqueue(ctx, hint(id, "updated", "u"))
			require.NoError(t, err)
			n, err := replica.Client(t).LLen(ctx, q.keys.hints(NewKey("netbox_hedgehog.vpc", id))).Result()
			require.NoError(t, err)
			require.EqualValues(t, 1, n, "acknowledged, so the replica has it")
		}
		require.Zero(t, testutil.ToFloat64(q.metrics.unreplicated))
		require.Equal(t, 1, testutil.CollectAndCount(q.metrics.replicaWait))
	})
}

func TestWaitOptionsValidated(t *testing.T) {
	o := fastOptions()
	o.WaitReplicas, o.WaitTimeout = 1, 0
	require.ErrorContains(t, o.validate(), "wait timeout")
	o.WaitReplicas = 17
	require.ErrorContains(t, o.validate(), "wait replicas")
}
