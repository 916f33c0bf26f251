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

// The same refusal twice is recorded once; another, or the same after an
// accepted write, is new again. A fabric whose data refuses every write
// shows in health; a deleted fabric is forgotten.
func TestRefusedOnce(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	whole := Refusal{Fields: map[string]any{"sync_status": "error", "drift_count": 0}, Whole: true, LastUpdated: "t1",
		Answer: `{"watch_crd_types":["This field cannot be blank."]}`, Name: "ui-made"}
	value := Refusal{Fields: map[string]any{"sync_status": "in_sync"}, Answer: "IntegrityError: check constraint"}

	for _, tc := range []struct {
		target string
		r      Refusal
		first  bool
	}{{TargetFabric, whole, true}, {TargetFabric, whole, false}, {"VPC/2", value, true}, {"VPC/2", value, false}} {
		first, err := s.Refused(ctx, 1, tc.target, tc.r)
		require.NoError(t, err)
		require.Equal(t, tc.first, first, tc.target)
	}
	got, err := s.Refusals(ctx, 1, []string{TargetFabric, "VPC/2", "VPC/3"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.True(t, got[TargetFabric].Whole)
	s.now = func() time.Time { return time.Now().Add(2 * ValueRefusalTTL) }
	first, err := s.Refused(ctx, 1, "VPC/2", value)
	require.NoError(t, err)
	require.False(t, first, "refused again after it expired: not told again")
	s.now = time.Now
	renewed, err := s.Refusals(ctx, 1, []string{"VPC/2"})
	require.NoError(t, err)
	require.False(t, renewed["VPC/2"].Expired(time.Now().Add(2*ValueRefusalTTL)), "its time renewed")
	require.Equal(t, "in_sync", got["VPC/2"].Fields["sync_status"])
	require.False(t, got["VPC/2"].Expired(got["VPC/2"].Since.Add(ValueRefusalTTL-time.Minute)))
	require.True(t, got["VPC/2"].Expired(got["VPC/2"].Since.Add(ValueRefusalTTL+time.Minute)))
	require.False(t, got[TargetFabric].Expired(got[TargetFabric].Since.Add(100*ValueRefusalTTL)), "a refusal of the data does not expire")

	h := s.Health(ctx)
	require.Equal(t, health.Degraded, h.Status)
	require.Contains(t, h.Error, "fabric ui-made: NetBox refuses to save its GitOps status")
	require.Len(t, h.Details["refused_writebacks"], 1)

	require.NoError(t, s.Accepted(ctx, 1, TargetFabric, "VPC/2"))
	require.Equal(t, health.OK, s.Health(ctx).Status)
	first, err = s.Refused(ctx, 1, TargetFabric, whole)
	require.NoError(t, err)
	require.True(t, first, "accepted in between: told again")
	require.Equal(t, 2.0, testutil.ToFloat64(s.m.refused.WithLabelValues(TargetFabric)))
	require.Equal(t, 1.0, testutil.ToFloat64(s.m.refused.WithLabelValues(TargetObject)))

	_, err = s.Set(ctx, Problem{Fabric: 1, Name: "ui-made", Reason: "no repository"})
	require.NoError(t, err)
	require.NoError(t, s.Forget(ctx, 1))
	require.Equal(t, health.OK, s.Health(ctx).Status, "a deleted fabric leaves nothing behind")
	got, err = s.Refusals(ctx, 1, []string{TargetFabric})
	require.NoError(t, err)
	require.Empty(t, got)
}
