package argocd

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// gated shares one Argo CD (fakeArgo) between replicas; while hold is set
// this replica's Sync calls are answered "busy".
type gated struct {
	*fakeArgo
	hold *atomic.Bool
}

func (g gated) Sync(ctx context.Context, ns, name, rev string, prune bool) error {
	if g.hold.Load() {
		return ErrBusy
	}
	return g.fakeArgo.Sync(ctx, ns, name, rev, prune)
}

// fencing is an Owner and Fencer whose fence is a real lease key in Redis
// holding this replica's name while it is the holder.
type fencing struct {
	*owns
	name string
}

func leaseKey(fabric int64) string { return "{t}:lease:" + field(fabric) }

func (f fencing) Fence(fabric int64) (state.Fence, bool) {
	return state.Fence{Fabric: fabric, Key: leaseKey(fabric), Value: f.name}, true
}

// Replica A asks for c1 while Argo CD answers it busy; then either the
// fabric's lease moves to B (A's Owner says so), or B's newer target c2 is
// stored before A's Owner has noticed. B pushes c2 and syncs it. When Argo
// CD frees up for A, A must not ask for c1 again: the Application stays at
// c2, the objects synced at c2. (Before the fix A's busy loop synced c1.)
func TestStaleOwnerDoesNotRollBackArgo(t *testing.T) {
	for _, tc := range []struct {
		name       string
		leaseMoves bool
	}{
		{"lease moved", true},
		{"newer target stored, owner not told yet", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb, st := sharedRedis(t, 1)
			shared := &fakeArgo{}
			var holdA, holdB atomic.Bool
			holdA.Store(true)
			oa, ob := owner(1), owner()
			a := startReplica(t, rdb, st, gated{shared, &holdA}, oa)
			a.s.Committed(targetOf(1, "c1"))
			time.Sleep(100 * time.Millisecond) // a is in requestSync, Argo CD busy
			if tc.leaseMoves {
				oa.set()
			}
			ob.set(1)
			// b stores c2 before it runs: its first rescan must not find
			// c1 and sync it to the end (objects synced at c1) before c2
			// comes, which CI's load once made it do.
			startReplica(t, rdb, st, gated{shared, &holdB}, ob, func(s *Syncer) { s.Committed(targetOf(1, "c2")) })
			require.Eventually(t, func() bool {
				shared.mu.Lock()
				defer shared.mu.Unlock()
				return shared.status.Revision == "c2"
			}, 5*time.Second, 10*time.Millisecond)
			require.Eventually(t, allIn(t, st, 1, state.Synced), 5*time.Second, 10*time.Millisecond)
			holdA.Store(false) // Argo CD no longer busy for a
			time.Sleep(500 * time.Millisecond)
			shared.mu.Lock()
			rev := shared.status.Revision
			shared.mu.Unlock()
			require.Equal(t, "c2", rev, "the Application went back to an older commit")
			// nothing may ask for c1 after c2.
			syncs := shared.synced()
			require.Contains(t, syncs, "c2")
			require.NotContains(t, syncs[slices.Index(syncs, "c2"):], "c1", "c1 asked again after c2: %v", syncs)
			for _, n := range []string{"vpc-1", "vpc-2"} {
				r, err := st.Get(context.Background(), keyOf(1, n))
				require.NoError(t, err)
				require.Equal(t, state.Synced, r.State)
				require.Equal(t, "c2", r.Commit)
			}
		})
	}
}

// A replica whose fabric lease moved while its sync ran records nothing:
// its state moves are fenced (ErrFenced stops it, no failure counted)
// even before its Owner noticed the move.
func TestMovedLeaseFencesStateMoves(t *testing.T) {
	rdb, st := sharedRedis(t, 1)
	ctx := context.Background()
	require.NoError(t, rdb.Set(ctx, leaseKey(1), "a", 0).Err())
	slow := &fakeArgo{never: true}
	a := startReplica(t, rdb, st, gated{slow, &atomic.Bool{}}, fencing{owner(1), "a"})
	a.s.Committed(targetOf(1, "c1"))
	require.Eventually(t, allIn(t, st, 1, state.Pending), 5*time.Second, 10*time.Millisecond)

	require.NoError(t, rdb.Set(ctx, leaseKey(1), "b", 0).Err()) // another replica took the lease
	slow.mu.Lock()
	slow.never = false
	slow.status = Status{Revision: "c1", OperationRevision: "c1", Health: "Healthy", SyncStatus: "Synced", Operation: "Succeeded"}
	slow.mu.Unlock()
	time.Sleep(300 * time.Millisecond)
	require.True(t, allIn(t, st, 1, state.Pending)(), "a stale replica's moves are fenced")
	p, err := newRedisTargets(rdb, "t").Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, "c1", p[1].Commit, "the target stays for the lease's holder")
	require.Equal(t, health.OK, a.s.Report().Status, "a fenced move is not an outage")

	require.NoError(t, rdb.Set(ctx, leaseKey(1), "a", 0).Err()) // back to a: its rescan settles them
	require.Eventually(t, allIn(t, st, 1, state.Synced), 5*time.Second, 10*time.Millisecond)
}
