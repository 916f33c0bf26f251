package problems

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/health"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func store(t *testing.T) *Store {
	t.Helper()
	s, err := New(redisenv.Start(t).Client(t), "t", prometheus.NewRegistry())
	require.NoError(t, err)
	return s
}

// A fabric's problem is "first" once per reason, shows in health from any
// store on the same Redis, and goes when cleared.
func TestFabricProblems(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	require.Equal(t, health.OK, s.Health(ctx).Status)

	for _, tc := range []struct {
		reason string
		first  bool
	}{{"repo 7 not readable", true}, {"repo 7 not readable", false}, {"no Git URL", true}, {"no Git URL", false}} {
		first, err := s.Set(ctx, Problem{Fabric: 3, Name: "fab-3", Reason: tc.reason})
		require.NoError(t, err)
		require.Equal(t, tc.first, first, tc.reason)
	}
	_, err := s.Set(ctx, Problem{Fabric: 4, Name: "fab-4", Reason: "other", Since: time.Unix(10, 0)})
	require.NoError(t, err)
	require.Equal(t, 3.0, testutil.ToFloat64(s.m.fabric))

	p, ok, err := s.Get(ctx, 3)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "no Git URL", p.Reason)
	r := s.Health(ctx)
	require.Equal(t, health.Degraded, r.Status)
	require.Equal(t, "fabric fab-3: no Git URL (and 1 more fabrics)", r.Error)
	require.Len(t, r.Details["fabrics"], 2)

	had, err := s.Clear(ctx, 3)
	require.NoError(t, err)
	require.True(t, had)
	had, err = s.Clear(ctx, 3)
	require.NoError(t, err)
	require.False(t, had)
	_, _ = s.Clear(ctx, 4)
	require.Equal(t, health.OK, s.Health(ctx).Status)
}

// The same values refused twice are recorded once; other values, or the
// same after an accepted write, are new again.
func TestRefusedOnce(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	a := Digest(map[string]any{"sync_status": "synced", "drift_count": 0})
	require.Equal(t, a, Digest(map[string]any{"drift_count": 0, "sync_status": "synced"}), "order does not matter")
	b := Digest(map[string]any{"sync_status": "error"})

	first, err := s.Refused(ctx, 1, TargetFabric, a)
	require.NoError(t, err)
	require.True(t, first)
	first, err = s.Refused(ctx, 1, TargetFabric, a)
	require.NoError(t, err)
	require.False(t, first)
	seen, err := s.WasRefused(ctx, 1, map[string]string{TargetFabric: a, "VPC/2": a})
	require.NoError(t, err)
	require.Equal(t, map[string]bool{TargetFabric: true}, seen)
	seen, err = s.WasRefused(ctx, 1, map[string]string{TargetFabric: b})
	require.NoError(t, err)
	require.Empty(t, seen)

	first, err = s.Refused(ctx, 1, "VPC/2", b)
	require.NoError(t, err)
	require.True(t, first)
	require.NoError(t, s.Accepted(ctx, 1, TargetFabric, "VPC/2"))
	first, err = s.Refused(ctx, 1, TargetFabric, a)
	require.NoError(t, err)
	require.True(t, first, "accepted in between: told again")
	require.Equal(t, 2.0, testutil.ToFloat64(s.m.refused.WithLabelValues(TargetFabric)))
	require.Equal(t, 1.0, testutil.ToFloat64(s.m.refused.WithLabelValues(TargetObject)))
}
