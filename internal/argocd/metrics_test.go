package argocd

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/state"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func syncs(s *Syncer, result string) float64 {
	return testutil.ToFloat64(s.syncs.WithLabelValues(result))
}

func TestSyncOutcomesAreCounted(t *testing.T) {
	cases := []struct {
		name string
		f    *fakeArgo
		want map[string]float64
	}{
		{"busy twice, then synced", &fakeArgo{busy: 2}, map[string]float64{SyncOK: 1}},
		// One target, one count: its first attempt's outcome (retries do
		// not count again, so an outage does not inflate the failures).
		{"Argo CD down for three tries", &fakeArgo{down: 3}, map[string]float64{SyncError: 1}},
		{"one object refused", &fakeArgo{failed: map[string]string{"vpc-2": "spec.x: Forbidden"}}, map[string]float64{SyncFailed: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, st, done := setupSyncer(t, c.f, time.Minute)
			reg := prometheus.NewRegistry()
			require.NoError(t, s.RegisterMetrics(reg))
			s.Committed(target("c1"))
			settled(t, done, st)
			require.Eventually(t, func() bool {
				for _, r := range []string{SyncOK, SyncFailed, SyncTimeout, SyncError} {
					if syncs(s, r) != c.want[r] {
						return false
					}
				}
				return true
			}, 5*time.Second, 10*time.Millisecond, "%v", c.want)
			s.Committed(target("c1")) // nothing left to deploy: not another sync
			time.Sleep(100 * time.Millisecond)
			require.Equal(t, c.want[SyncOK]+c.want[SyncFailed], syncs(s, SyncOK)+syncs(s, SyncFailed))
			require.Equal(t, c.want[SyncError], syncs(s, SyncError))
		})
	}
	t.Run("never applied", func(t *testing.T) {
		s, _, _ := setupSyncer(t, &fakeArgo{never: true}, 100*time.Millisecond)
		s.Committed(target("c1"))
		require.Eventually(t, func() bool { return syncs(s, SyncTimeout) >= 1 }, 5*time.Second, 10*time.Millisecond)
		require.Zero(t, syncs(s, SyncOK)+syncs(s, SyncError))
	})
}

// The replica whose syncer sees Argo CD apply the commit measures the
// change's sync latency from the time in the object's record (another
// replica committed it); once.
func TestSyncedLatencyFromTheRecord(t *testing.T) {
	rdb := redisenv.Start(t).Client(t)
	reg := prometheus.NewRegistry()
	st, err := state.New(rdb, state.Options{Prefix: "t"}, reg)
	require.NoError(t, err)
	committer, err := state.New(rdb, state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	ctx := context.Background()
	changed := time.Now().Add(-3 * time.Second)
	for _, n := range []string{"vpc-1", "vpc-2"} {
		require.NoError(t, committer.Move(ctx, state.Change{Key: key(n), To: state.Draft}))
		require.NoError(t, committer.Move(ctx, state.Change{Key: key(n), To: state.Committed, Commit: "c1", Committed: true, ChangedAt: changed}))
	}
	done := make(chan []state.Key, 10)
	s := NewSyncer(&fakeArgo{}, st, Options{Poll: 10 * time.Millisecond, Timeout: time.Minute, Redis: rdb, Prefix: "t"},
		func(_ context.Context, _ int64, keys []state.Key) { done <- keys }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(rctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	s.Committed(target("c1"))
	settled(t, done, st)
	h := histogram(t, reg, "synced")
	require.EqualValues(t, 2, h.GetSampleCount())
	require.InDelta(t, 2*3, h.GetSampleSum(), 2, "about 3s each")
	require.Nil(t, stateOf(t, st, "vpc-1").ChangedAt)
}

func histogram(t *testing.T, reg *prometheus.Registry, stage string) interface {
	GetSampleCount() uint64
	GetSampleSum() float64
} {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "hnp_sync_latency_seconds" && m.GetLabel()[0].GetValue() == stage {
				return m.GetHistogram()
			}
		}
	}
	t.Fatalf("no hnp_sync_latency_seconds{stage=%q}", stage)
	return nil
}
