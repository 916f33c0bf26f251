package reconcile

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/lease"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// Two replicas' handlers on one Redis, one Git remote and real NetBox:
// while one holds a fabric's lease the other hands the key back without
// touching Git, and a run on one replica covers older hints on the other.
func TestOneReplicaWritesAFabric(t *testing.T) {
	e := setup(t, "leases")
	rdb := redisenv.Start(t).Client(t)
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	manager := func(name string) *lease.Manager {
		m, err := lease.New(rdb, lease.Options{Prefix: "t", TTL: 5 * time.Second, Holder: name}, logger, prometheus.NewRegistry())
		require.NoError(t, err)
		return m
	}
	ma, mb := manager("a"), manager("b")
	a := NewHandler(e.rec, e.nb, nil).WithLeases(ma)
	b := NewHandler(e.rec, e.nb, nil).WithLeases(mb)

	id, err := fabric.EnsureFabric(ctx, e.nb, "lease-test", map[string]any{
		"git_repository_url": e.url, "git_branch": "main", "gitops_directory": "/lease-test/"})
	require.NoError(t, err)
	fk := kind.Fabric
	item := func(at time.Time) queue.Item {
		h := queue.Hint{ObjectType: fk.ObjectType(), ObjectID: id, Kind: "Fabric", Event: "updated", ReceivedAt: at}
		return queue.Item{Key: h.Key(), Hints: []queue.Hint{h}, Attempt: 1}
	}

	held, err := ma.Acquire(ctx, id) // replica a is writing the fabric
	require.NoError(t, err)
	err = b.Handle(ctx, item(time.Now()))
	var down interface{ UnavailableFor() time.Duration }
	require.ErrorAs(t, err, &down, "handed back without counting an attempt")
	require.ErrorIs(t, err, lease.ErrHeld)
	require.Empty(t, e.files(t, "lease-test"), "b wrote nothing")
	held.Release()

	before := time.Now()
	require.NoError(t, a.Handle(ctx, item(time.Now())))
	require.NotEmpty(t, e.files(t, "lease-test/.hnp"))
	covered, err := mb.Covered(ctx, id)
	require.NoError(t, err)
	require.True(t, covered.After(before.Add(-time.Second)), "coverage is in Redis: %s", covered)

	// b gets an older hint of the same fabric: a's run covered it, so b
	// neither waits for the lease nor reconciles
	require.NoError(t, b.Handle(ctx, item(before.Add(-time.Second))))
}
