package drift

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/dynamic"

	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// counted stands in for the reconciler's read of Git and counts which
// fabrics a detector checked.
type counted struct {
	mu      sync.Mutex
	checked map[int64]int
}

func (c *counted) Committed(_ context.Context, fabric int64) (netbox.Fabric, string, map[string][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked[fabric]++
	return netbox.Fabric{ID: fabric, Name: "fabric-" + string(rune('0'+fabric))}, "c0ffee", nil, nil
}

func (c *counted) fabrics() map[int64]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[int64]int{}
	for k, v := range c.checked {
		out[k] = v
	}
	return out
}

// noCluster: no fabric has a cluster (the report says so).
type noCluster struct{}

func (noCluster) For(netbox.Fabric) (dynamic.Interface, string, error) {
	return nil, "", cluster.ErrNoCluster
}

// ownsOnly owns the fabrics listed.
type ownsOnly map[int64]bool

func (o ownsOnly) Own(_ context.Context, fabric int64) (bool, error) { return o[fabric], nil }

func detectorOn(t *testing.T, rdb redis.UniversalClient, st *state.Store, o Owner) (*Detector, *counted) {
	t.Helper()
	c := &counted{checked: map[int64]int{}}
	d, err := New(c, st, noCluster{}, Options{Redis: rdb, Prefix: "k", Owner: o, Interval: time.Minute}, nil,
		slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	require.NoError(t, err)
	return d, c
}

// Two replicas split the fabrics: each periodic pass checks only its
// own; every report is read the same from either, and expires after a
// few periods.
func TestDetectorsCheckOwnFabricsAndShareReports(t *testing.T) {
	ctx := context.Background()
	rdb := redisenv.Start(t).Client(t)
	st, err := state.New(rdb, state.Options{Prefix: "k"}, prometheus.NewRegistry())
	require.NoError(t, err)
	for _, f := range []int64{1, 2, 3} {
		require.NoError(t, st.Move(ctx, state.Change{Key: state.Key{Fabric: f, Kind: "VPC", Namespace: "default", Name: "v"},
			To: state.Committed, FabricName: "fabric", Path: "p"}))
	}
	a, ca := detectorOn(t, rdb, st, ownsOnly{1: true, 3: true})
	b, cb := detectorOn(t, rdb, st, ownsOnly{2: true})
	a.CheckAll(ctx)
	b.CheckAll(ctx)
	require.Equal(t, map[int64]int{1: 1, 3: 1}, ca.fabrics())
	require.Equal(t, map[int64]int{2: 1}, cb.fabrics())

	for _, f := range []int64{1, 2, 3} {
		ra, okA, err := a.Last(ctx, f)
		require.NoError(t, err)
		rb, okB, err := b.Last(ctx, f)
		require.NoError(t, err)
		require.True(t, okA && okB, "fabric %d's report is on both replicas", f)
		require.Equal(t, ra, rb)
		require.Equal(t, f, ra.Fabric)
		require.Contains(t, ra.Error, "no cluster configured")
	}
	ttl, err := rdb.TTL(ctx, "{k}:drift:report:1").Result()
	require.NoError(t, err)
	require.InDelta(t, 5*time.Minute, ttl, float64(5*time.Second), "3 intervals, at least 5 minutes")

	// Without an Owner a detector checks every fabric (one replica).
	all, call := detectorOn(t, rdb, st, nil)
	all.CheckAll(ctx)
	require.Equal(t, map[int64]int{1: 1, 2: 1, 3: 1}, call.fabrics())
}
