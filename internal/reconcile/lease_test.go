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
	"github.com/githedgehog/hnp-sidecar/internal/state"
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
	// The TTL outlasts a's run even on a loaded machine: nothing renews
	// it here (CI flake: a's 5 s lease ran out during its run, and b took
	// the fabric where the test expects it held).
	manager := func(name string) *lease.Manager {
		m, err := lease.New(rdb, lease.Options{Prefix: "t", TTL: 30 * time.Second, Holder: name}, logger, prometheus.NewRegistry())
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
	require.NoError(t, b.Handle(ctx, item(before.Add(-3*time.Second))))

	// a hint within the clocks' slack of the run's start is not taken as
	// covered: b wants the lease (a still holds it) rather than ack it
	require.ErrorIs(t, b.Handle(ctx, item(before.Add(-time.Second))), lease.ErrHeld)

	// coverage stamped by a replica whose clock runs 30 s ahead is not
	// trusted: a's next run happens
	l, err := ma.Acquire(ctx, id)
	require.NoError(t, err)
	require.NoError(t, l.Cover(ctx, time.Now().Add(30*time.Second)))
	l.Release()
	covered, err = ma.Covered(ctx, id)
	require.NoError(t, err)
	skewed := NewHandler(e.rec, e.nb, nil).WithLeases(ma)
	run, err := skewed.covered(ctx, id, &fabricState{}, item(time.Now()))
	require.NoError(t, err)
	require.False(t, run, "a change received now is not covered by a run stamped %s", covered)
}

// A replica whose lease was taken over (it paused past the TTL) can
// neither push nor record: its run fails on the fence and Git and the
// states stay as the new holder left them.
func TestLostLeaseNeitherPushesNorRecords(t *testing.T) {
	e := setup(t, "fenced")
	srv := redisenv.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	states, err := state.New(rdb, state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	rec := New(e.nb, e.rec.git, Defaults{}, logger, WithStates(states))
	// The TTL outlasts a's run even on a loaded machine: nothing renews
	// it here (CI flake: a's 5 s lease ran out during its run, and b took
	// the fabric where the test expects it held).
	manager := func(name string) *lease.Manager {
		m, err := lease.New(rdb, lease.Options{Prefix: "t", TTL: time.Second, Holder: name}, logger, prometheus.NewRegistry())
		require.NoError(t, err)
		return m
	}
	id, err := fabric.EnsureFabric(ctx, e.nb, "fenced", map[string]any{
		"git_repository_url": e.url, "git_branch": "main", "gitops_directory": "/fenced/"})
	require.NoError(t, err)
	_, err = fabric.Load(ctx, e.nb, id, fabric.Generate(fabric.SampleOptions())[:3])
	require.NoError(t, err)

	old, err := manager("a").Acquire(ctx, id)
	require.NoError(t, err)
	time.Sleep(1200 * time.Millisecond) // a pauses past its TTL
	_, err = manager("b").Acquire(ctx, id)
	require.NoError(t, err)

	f := old.Fence()
	fenced := state.WithFence(WithFence(ctx, old.Check), state.Fence{Fabric: id, Key: f.Key, Value: f.Value})
	_, err = rec.SyncFabric(fenced, id)
	require.ErrorIs(t, err, lease.ErrLost)
	require.Empty(t, e.files(t, "fenced"), "nothing pushed")
	recs, err := states.Load(ctx, id)
	require.NoError(t, err)
	require.Empty(t, recs, "nothing recorded")
}
