package argocd

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// owns is an Owner whose fabrics a test hands around.
type owns struct {
	mu     sync.Mutex
	fabric map[int64]bool
	asked  atomic.Int64
}

func owner(fabrics ...int64) *owns {
	o := &owns{fabric: map[int64]bool{}}
	o.set(fabrics...)
	return o
}

func (o *owns) set(fabrics ...int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.fabric)
	for _, f := range fabrics {
		o.fabric[f] = true
	}
}

func (o *owns) Own(_ context.Context, fabric int64) (bool, error) {
	o.asked.Add(1)
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fabric[fabric], nil
}

// replica is one sidecar's syncer on the shared Redis, running until stop.
type replica struct {
	s    *Syncer
	stop func()
}

// startReplica starts a syncer; before (optional) is done to it before it
// runs.
func startReplica(t *testing.T, rdb redis.UniversalClient, st *state.Store, f Driver, o Owner, before ...func(*Syncer)) *replica {
	t.Helper()
	s := NewSyncer(f, st, Options{Poll: 10 * time.Millisecond, Timeout: time.Minute, BusyBackoff: 5 * time.Millisecond,
		RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond, Redis: rdb, Prefix: "t", Owner: o,
		Rescan: 50 * time.Millisecond}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, b := range before {
		b(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return &replica{s: s, stop: stop}
}

func sharedRedis(t *testing.T, fabrics ...int64) (redis.UniversalClient, *state.Store) {
	t.Helper()
	rdb := redisenv.Start(t).Client(t)
	st, err := state.New(rdb, state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	for _, fab := range fabrics {
		for _, n := range []string{"vpc-1", "vpc-2"} {
			require.NoError(t, st.Move(context.Background(), state.Change{Key: keyOf(fab, n), To: state.Committed, Commit: "c1"}))
		}
	}
	return rdb, st
}

func keyOf(fabric int64, name string) state.Key {
	return state.Key{Fabric: fabric, Kind: "VPC", Namespace: "default", Name: name}
}

func targetOf(fabric int64, commit string) Target {
	return Target{Fabric: fabric, FabricName: "f" + field(fabric), Commit: commit,
		App: App{Name: "hedgehog-f" + field(fabric), Namespace: "argocd"}}
}

func allIn(t *testing.T, st *state.Store, fabric int64, want state.State) func() bool {
	return func() bool {
		for _, n := range []string{"vpc-1", "vpc-2"} {
			r, err := st.Get(context.Background(), keyOf(fabric, n))
			require.NoError(t, err)
			if r.State != want {
				return false
			}
		}
		return true
	}
}

func (f *fakeArgo) synced() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.syncs...)
}

// A replica asked Argo CD to sync and stopped before the sync ended (a
// restart): the next syncer on the same Redis takes the target up, with
// no new commit, and settles the pending objects.
func TestRestartRedrivesPendingSync(t *testing.T) {
	rdb, st := sharedRedis(t, 1)
	slow := &fakeArgo{never: true}
	old := startReplica(t, rdb, st, slow, nil)
	old.s.Committed(targetOf(1, "c1"))
	require.Eventually(t, allIn(t, st, 1, state.Pending), 5*time.Second, 10*time.Millisecond)
	old.stop()
	require.Equal(t, []string{"c1"}, slow.synced())

	pending, err := newRedisTargets(rdb, "t").Pending(context.Background())
	require.NoError(t, err)
	require.Equal(t, "c1", pending[1].Commit, "the unfinished target outlives its replica")

	fresh := &fakeArgo{}
	next := startReplica(t, rdb, st, fresh, nil)
	require.Eventually(t, allIn(t, st, 1, state.Synced), 5*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"c1"}, fresh.synced(), "asked again by the new replica")
	require.Eventually(t, func() bool {
		p, err := newRedisTargets(rdb, "t").Pending(context.Background())
		require.NoError(t, err)
		return len(p) == 0
	}, 5*time.Second, 10*time.Millisecond, "a reached target is forgotten")
	require.Equal(t, "Healthy", next.s.Health(1))
}

// Two replicas split the fabrics: each syncs only its own, whichever
// replica recorded the target; the health of each fabric is the same
// from both.
func TestReplicasWorkOnlyTheirFabrics(t *testing.T) {
	rdb, st := sharedRedis(t, 1, 2)
	fa, fb := &fakeArgo{}, &fakeArgo{}
	a := startReplica(t, rdb, st, fa, owner(1))
	b := startReplica(t, rdb, st, fb, owner(2))
	a.s.Committed(targetOf(1, "c1"))
	a.s.Committed(targetOf(2, "d1")) // recorded by a, not a's to sync
	require.Eventually(t, allIn(t, st, 1, state.Synced), 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, allIn(t, st, 2, state.Synced), 5*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"c1"}, fa.synced())
	require.Equal(t, []string{"d1"}, fb.synced())
	for _, r := range []*replica{a, b} {
		require.Equal(t, "Healthy", r.s.Health(1))
		require.Equal(t, "Healthy", r.s.Health(2))
	}
}

// A fabric's lease moves while its sync runs: the old replica lets go,
// the new one settles the pending objects.
func TestMovedFabricIsTakenUp(t *testing.T) {
	rdb, st := sharedRedis(t, 1)
	oa, ob := owner(1), owner()
	slow := &fakeArgo{never: true}
	a := startReplica(t, rdb, st, slow, oa)
	a.s.Committed(targetOf(1, "c1"))
	require.Eventually(t, allIn(t, st, 1, state.Pending), 5*time.Second, 10*time.Millisecond)
	fresh := &fakeArgo{}
	startReplica(t, rdb, st, fresh, ob)
	oa.set()
	ob.set(1)
	require.Eventually(t, allIn(t, st, 1, state.Synced), 5*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"c1"}, fresh.synced())
	require.Equal(t, []string{"c1"}, slow.synced(), "the old owner asked once and let go")
}

// An outage seen by the replica that owns the fabric is every replica's
// health; it ends for all with the next success.
func TestHealthIsSharedAcrossReplicas(t *testing.T) {
	rdb, st := sharedRedis(t, 1)
	down := &fakeArgo{down: 1 << 30}
	a := startReplica(t, rdb, st, down, owner(1))
	b := startReplica(t, rdb, st, &fakeArgo{}, owner())
	a.s.Committed(targetOf(1, "c1"))
	require.Eventually(t, func() bool { return b.s.Report().Status == health.Degraded }, 5*time.Second, 10*time.Millisecond)
	rep := b.s.Report()
	require.Contains(t, rep.Error, "fabric f1: dial tcp")
	require.Contains(t, rep.Details["failing"], "f1")
	require.Equal(t, a.s.Report().Error, rep.Error)

	down.mu.Lock()
	down.down = 0
	down.mu.Unlock()
	require.Eventually(t, func() bool { return b.s.Report().Status == health.OK }, 5*time.Second, 10*time.Millisecond)
	require.NotNil(t, b.s.Report().LastSuccess)
}
