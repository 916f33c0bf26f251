package redisenv

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// TestStoresOnARedisCluster runs the main operations of every store on a
// real Redis Cluster: a script or transaction touching keys of two slots
// would fail there (CROSSSLOT, or a key the node does not own). At the end
// every key is on one primary and starts with the prefix's hash tag.
func TestStoresOnARedisCluster(t *testing.T) {
	c := StartCluster(t)
	rdb := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const prefix = "hnpc"
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	// queue: enqueue (also with WAIT, which must reach the queue's own
	// primary), claim and ack, fail to a dead letter, replay, stats.
	opts := queue.DefaultOptions()
	opts.Prefix, opts.CoalesceWindow, opts.MaxAttempts, opts.PollInterval = prefix, 0, 1, 20*time.Millisecond
	opts.WaitReplicas, opts.WaitTimeout = 1, time.Second
	q, err := queue.New(rdb, opts, logger, prometheus.NewRegistry())
	require.NoError(t, err)
	for id := int64(1); id <= 3; id++ {
		_, err := q.Enqueue(ctx, queue.Hint{ObjectType: "netbox_hedgehog.vpc", ObjectID: id, Kind: "VPC", Event: "updated"})
		require.NoError(t, err, "enqueue with WAIT 1 on a cluster whose primaries have a replica each")
	}
	var mu sync.Mutex
	done := map[queue.Key]bool{}
	runCtx, stop := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() {
		runErr <- q.Run(runCtx, queue.HandlerFunc(func(_ context.Context, it queue.Item) error {
			mu.Lock()
			defer mu.Unlock()
			done[it.Key] = true
			if strings.HasSuffix(string(it.Key), ":3") {
				return errors.New("refused for the test")
			}
			return nil
		}))
	}()
	require.Eventually(t, func() bool {
		dead, err := q.DeadLetters(ctx)
		mu.Lock()
		defer mu.Unlock()
		return err == nil && len(done) == 3 && len(dead) == 1
	}, 20*time.Second, 50*time.Millisecond)
	stop()
	require.NoError(t, <-runErr)
	require.NoError(t, q.Replay(ctx, "netbox_hedgehog.vpc:3"))
	stats, err := q.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, int(stats.Waiting))

	// state: a record begins, moves, is read and listed.
	st, err := state.New(rdb, state.Options{Prefix: prefix}, prometheus.NewRegistry())
	require.NoError(t, err)
	k := state.Key{Fabric: 1, Kind: "VPC", Namespace: "default", Name: "vpc-1"}
	require.NoError(t, st.Move(ctx, state.Change{Key: k, To: state.Draft, Trigger: state.Observed}))
	require.NoError(t, st.Move(ctx, state.Change{Key: k, To: state.Committed, Trigger: state.CommitToGit, Commit: "abc"}))
	rec, err := st.Get(ctx, k)
	require.NoError(t, err)
	require.Equal(t, state.Committed, rec.State)
	_, err = st.Load(ctx, 1)
	require.NoError(t, err)
	_, err = st.Counts(ctx)
	require.NoError(t, err)
	require.NoError(t, st.MarkShow(ctx, 1, "sync_status"))
	_, err = st.ToShow(ctx)
	require.NoError(t, err)

	// jobs: a re-sync job (WATCH/MULTI), an update, the installation lock.
	js := jobs.New(rdb, prefix)
	j, _, err := js.Resync(ctx, 1)
	require.NoError(t, err)
	require.NoError(t, js.Update(ctx, j.ID, func(*jobs.Job) {}))
	lock, _, err := js.LockInstall(ctx, 1, time.Minute)
	require.NoError(t, err)
	require.NotNil(t, lock)
	lock.Release(ctx)

	// problems: set, refusals (scripts and MULTI), clear.
	ps, err := problems.New(rdb, prefix, prometheus.NewRegistry())
	require.NoError(t, err)
	_, err = ps.Set(ctx, problems.Problem{Fabric: 1, Name: "f", Reason: "r", Since: time.Now()})
	require.NoError(t, err)
	_, err = ps.Refused(ctx, 1, "vpc:1", problems.Refusal{Fields: map[string]any{"x": 1}})
	require.NoError(t, err)
	require.NoError(t, ps.Accepted(ctx, 1, "vpc:1"))
	require.NoError(t, ps.Forget(ctx, 1))
	_, err = ps.Clear(ctx, 1)
	require.NoError(t, err)

	// known: a fabric's snapshot replaced (fenced by a lease key), updated, read.
	ks := known.New(rdb, prefix)
	fence := &known.Fence{Key: "{" + prefix + "}:lease:1", Value: "1|a"}
	require.NoError(t, rdb.Set(ctx, fence.Key, fence.Value, time.Minute).Err())
	require.NoError(t, ks.Replace(ctx, 1, fence, "fp", "c1", []known.Entry{{Kind: "VPC", ID: 1, Name: "vpc-1"}}))
	snap, ok, err := ks.Load(ctx, 1)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, ks.Update(ctx, 1, fence, snap, "c2", &known.Entry{Kind: "VPC", ID: 2, Name: "vpc-2"}, "", nil))

	byNode, err := c.Keys(ctx)
	require.NoError(t, err)
	nodes := 0
	for node, keys := range byNode {
		if len(keys) > 0 {
			nodes++
		}
		for _, key := range keys {
			require.True(t, strings.HasPrefix(key, "{"+prefix+"}:"), "key %q on %s has no hash tag", key, node)
		}
	}
	require.Equal(t, 1, nodes, "the keys are on one primary: %v", byNode)
}
