package state

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// latencies reads hnp_sync_latency_seconds{stage} from reg: count and sum.
func latencies(t *testing.T, reg *prometheus.Registry, stage string) (uint64, float64) {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "hnp_sync_latency_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == stage {
				return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
			}
		}
	}
	return 0, 0
}

// Two replicas on one Redis: the one that pushed measures the commit, the
// other sees Argo CD's sync and measures it from the change time in the
// record; each change once, not again on a re-sync of the same commit.
func TestLatencyAcrossReplicas(t *testing.T) {
	srv := redisenv.Start(t)
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	a, err := New(srv.Client(t), Options{Prefix: "t"}, regA)
	require.NoError(t, err)
	b, err := New(srv.Client(t), Options{Prefix: "t"}, regB)
	require.NoError(t, err)
	ctx := context.Background()
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func(s *Store, d time.Duration) { s.now = func() time.Time { return t0.Add(d) } }

	clock(a, time.Second)
	require.NoError(t, a.Move(ctx, Change{Key: vpc1, To: Draft, Expect: None}))
	clock(a, 3*time.Second)
	require.NoError(t, a.Move(ctx, Change{Key: vpc1, To: Committed, Expect: Draft, Commit: "c1", Committed: true, ChangedAt: t0}))
	n, sum := latencies(t, regA, "committed")
	require.EqualValues(t, 1, n)
	require.InDelta(t, 3, sum, 1e-9)
	r, err := b.Get(ctx, vpc1)
	require.NoError(t, err)
	require.Equal(t, t0, r.ChangedAt.UTC(), "the change time is in Redis for every replica")

	clock(b, 10*time.Second)
	require.NoError(t, b.Move(ctx, Change{Key: vpc1, To: Pending, Expect: Committed}))
	n, _ = latencies(t, regB, "synced")
	require.Zero(t, n, "pending is not synced")
	require.NoError(t, b.Move(ctx, Change{Key: vpc1, To: Synced, Expect: Pending}))
	n, sum = latencies(t, regB, "synced")
	require.EqualValues(t, 1, n)
	require.InDelta(t, 10, sum, 1e-9)
	n, _ = latencies(t, regA, "synced")
	require.Zero(t, n, "only the replica that saw the sync measures it")
	r, err = b.Get(ctx, vpc1)
	require.NoError(t, err)
	require.Nil(t, r.ChangedAt, "measured: cleared")

	// A re-sync of the same commit (a periodic run, a forced sync): nothing new.
	require.NoError(t, b.Move(ctx, Change{Key: vpc1, To: Pending, Expect: Synced}))
	require.NoError(t, b.Move(ctx, Change{Key: vpc1, To: Synced, Expect: Pending}))
	n, _ = latencies(t, regB, "synced")
	require.EqualValues(t, 1, n)

	// Two changes before a sync: the oldest is what the sync measures; a
	// commit without a change time (a full run that only re-rendered) is
	// not measured.
	t1 := t0.Add(time.Minute)
	clock(a, time.Minute+2*time.Second)
	require.NoError(t, a.Move(ctx, Change{Key: vpc1, To: Draft, Expect: Synced}))
	require.NoError(t, a.Move(ctx, Change{Key: vpc1, To: Committed, Expect: Draft, Commit: "c2", Committed: true, ChangedAt: t1}))
	require.NoError(t, a.Move(ctx, Change{Key: vpc1, To: Draft, Expect: Committed}))
	require.NoError(t, a.Move(ctx, Change{Key: vpc1, To: Committed, Expect: Draft, Commit: "c3", Committed: true, ChangedAt: t1.Add(time.Second)}))
	require.NoError(t, a.Move(ctx, Change{Key: vpc1, To: Draft, Expect: Committed}))
	require.NoError(t, a.Move(ctx, Change{Key: vpc1, To: Committed, Expect: Draft, Commit: "c4", Committed: true}))
	n, sum = latencies(t, regA, "committed")
	require.EqualValues(t, 3, n)
	require.InDelta(t, 3+2+1, sum, 1e-9)
	clock(b, 2*time.Minute)
	require.NoError(t, b.Move(ctx, Change{Key: vpc1, To: Synced, Expect: Committed}))
	n, sum = latencies(t, regB, "synced")
	require.EqualValues(t, 2, n)
	require.InDelta(t, 10+60, sum, 1e-9)

	// A NetBox clock ahead of ours is 0, not negative.
	require.NoError(t, a.Move(ctx, Change{Key: vpc1, To: Draft, Expect: Synced}))
	require.NoError(t, a.Move(ctx, Change{Key: vpc1, To: Committed, Expect: Draft, Committed: true, ChangedAt: t0.Add(time.Hour)}))
	require.Equal(t, 1, testutil.CollectAndCount(a.latency.WithLabelValues("committed").(prometheus.Histogram)))
	_, after := latencies(t, regA, "committed")
	require.InDelta(t, 6, after, 1e-9)
}
