package argocd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// fakeArgo plays Argo CD for the syncer's logic: syncs finish at once with
// the configured per-resource results; busy answers come first.
type fakeArgo struct {
	mu      sync.Mutex
	busy    int
	status  Status
	failed  map[string]string // resource name → message
	never   bool              // the sync never ends
	syncs   []string
	applied int
	down    int // EnsureApplication fails this many times (Argo CD unreachable)
	foreign bool
	ensures int
	// movedOn: once the operation succeeded, sync.revision is a newer
	// commit (another fabric's, on the same branch) and the operation
	// lists no resource (an automated sync applied them first).
	movedOn bool
}

func (f *fakeArgo) EnsureRepository(context.Context, string, Repository) error { return nil }
func (f *fakeArgo) EnsureProject(context.Context, Project) error               { return nil }
func (f *fakeArgo) EnsureApplication(context.Context, App) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ensures++
	if f.foreign {
		return fmt.Errorf("%w: argocd/hedgehog-f is someone else's", ErrForeignApplication)
	}
	if f.down > 0 {
		f.down--
		return errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	}
	f.applied++
	return nil
}
func (f *fakeArgo) Refresh(context.Context, string, string) error { return nil }

func (f *fakeArgo) Sync(_ context.Context, _, _, rev string, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy > 0 {
		f.busy--
		return ErrBusy
	}
	f.syncs = append(f.syncs, rev)
	if f.never {
		f.status = Status{Operation: "Running", Running: true, OperationRevision: rev}
		return nil
	}
	st := Status{Revision: rev, OperationRevision: rev, Health: "Healthy", SyncStatus: "Synced", Operation: "Succeeded"}
	if f.movedOn {
		st.Revision, st.Message = rev+"-next", "successfully synced (no more tasks)"
	}
	if len(f.failed) > 0 {
		st.SyncStatus, st.Operation, st.Message, st.Health = "OutOfSync", "Failed", "one or more objects failed to apply", "Missing"
		for _, n := range []string{"vpc-1", "vpc-2"} {
			r := Resource{Kind: "VPC", Namespace: "default", Name: n, Status: "Synced"}
			if msg, bad := f.failed[n]; bad {
				r.Status, r.Message = "SyncFailed", msg
			}
			st.Resources = append(st.Resources, r)
		}
	}
	f.status = st
	return nil
}

func (f *fakeArgo) Status(context.Context, string, string) (Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

func setupSyncer(t *testing.T, f *fakeArgo, timeout time.Duration) (*Syncer, *state.Store, chan []state.Key) {
	t.Helper()
	rdb := redisenv.Start(t).Client(t)
	st, err := state.New(rdb, state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	done := make(chan []state.Key, 10)
	s := NewSyncer(f, st, Options{Poll: 10 * time.Millisecond, Timeout: timeout, BusyBackoff: 5 * time.Millisecond,
		RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond, Redis: rdb, Prefix: "t"},
		func(_ context.Context, fabric int64, keys []state.Key) {
			if fabric == 1 {
				done <- keys
			}
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	ctx0 := context.Background()
	for _, n := range []string{"vpc-1", "vpc-2"} {
		require.NoError(t, st.Move(ctx0, state.Change{Key: key(n), To: state.Committed, Commit: "c1"}))
	}
	return s, st, done
}

// settled waits for the syncer to show the outcome of a sync: moves shown
// until no object is pending any more, and none after them.
func settled(t *testing.T, done chan []state.Key, st *state.Store) {
	t.Helper()
	pending := func() bool {
		for _, n := range []string{"vpc-1", "vpc-2"} {
			if stateOf(t, st, n).State == state.Pending {
				return true
			}
		}
		return false
	}
	for shown := false; !shown || pending(); {
		select {
		case <-done:
			shown = true
		case <-time.After(5 * time.Second):
			t.Fatal("the syncer showed no outcome")
		}
	}
	for {
		select {
		case <-done:
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
}

func key(name string) state.Key {
	return state.Key{Fabric: 1, Kind: "VPC", Namespace: "default", Name: name}
}

func target(commit string) Target {
	return Target{Fabric: 1, FabricName: "f", Commit: commit, App: App{Name: "hedgehog-f", Namespace: "argocd"}}
}

func stateOf(t *testing.T, st *state.Store, name string) state.Record {
	t.Helper()
	r, err := st.Get(context.Background(), key(name))
	require.NoError(t, err)
	return r
}

func TestSyncerCommittedToSynced(t *testing.T) {
	f := &fakeArgo{busy: 2}
	s, st, done := setupSyncer(t, f, time.Minute)
	s.Committed(target("c1"))
	settled(t, done, st)
	r := stateOf(t, st, "vpc-1")
	require.Equal(t, state.Synced, r.State)
	require.Equal(t, "c1", r.Commit)
	require.Equal(t, []state.Trigger{state.SyncComplete, state.ApplyToCluster, state.Observed},
		[]state.Trigger{r.History[0].Trigger, r.History[1].Trigger, r.History[2].Trigger})
	require.Equal(t, []string{"c1"}, f.syncs, "busy twice, then one sync")
	require.Equal(t, "Healthy", s.Health(1))

	// Nothing left to deploy: the same commit again does nothing.
	s.Committed(target("c1"))
	select {
	case <-done:
		t.Fatal("no object moved: nothing to show")
	case <-time.After(100 * time.Millisecond):
	}
	require.Len(t, f.syncs, 1)
}

// Two fabrics on one branch: the other's commit moved sync.revision on
// before this one's operation was read, and an automated sync had applied
// the objects first (the operation lists none): the operation at the
// commit succeeded, so they are synced, not drifted with "successfully
// synced". (TestTwoFabricsTwoClusters met it against real Argo CDs.)
func TestSyncerSucceededOperationSyncsUnlistedObjects(t *testing.T) {
	f := &fakeArgo{movedOn: true}
	s, st, done := setupSyncer(t, f, time.Minute)
	s.Committed(target("c1"))
	settled(t, done, st)
	for _, n := range []string{"vpc-1", "vpc-2"} {
		r := stateOf(t, st, n)
		require.Equal(t, state.Synced, r.State, "%s: %s", n, r.Reason)
		require.Equal(t, "c1", r.Commit)
	}
}

// A commit that only removed files moves no object, yet is asked for: an
// Application without automated sync prunes nothing otherwise. (Before,
// the syncer returned at "nothing to move".)
func TestSyncerAsksForACommitThatMovesNoObject(t *testing.T) {
	f := &fakeArgo{}
	s, st, done := setupSyncer(t, f, time.Minute)
	s.Committed(target("c1"))
	settled(t, done, st)
	s.Committed(target("c2")) // vpc-3's file removed: no record waits for c2
	require.Eventually(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return slices.Equal(f.syncs, []string{"c1", "c2"})
	}, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, state.Synced, stateOf(t, st, "vpc-1").State)
}

// Argo CD unreachable for a while: the objects wait in committed and the
// fabric is tried again with backoff, with no new commit and no manual step.
func TestSyncerRetriesWhileArgoCDIsDown(t *testing.T) {
	f := &fakeArgo{down: 3}
	s, st, done := setupSyncer(t, f, time.Minute)
	s.Committed(target("c1"))
	settled(t, done, st) // after Argo CD came back
	require.Equal(t, state.Synced, stateOf(t, st, "vpc-1").State)
	require.Equal(t, []string{"c1"}, f.syncs)
	require.Equal(t, health.OK, s.Report().Status, "healthy again")
}

func TestSyncerFailedResourceDrifts(t *testing.T) {
	f := &fakeArgo{failed: map[string]string{"vpc-2": `VPC.vpc.githedgehog.com "vpc-2" is invalid: spec.x: Forbidden`}}
	s, st, done := setupSyncer(t, f, time.Minute)
	s.Committed(target("c1"))
	settled(t, done, st)
	require.Equal(t, state.Synced, stateOf(t, st, "vpc-1").State, "the other object is fine")
	r := stateOf(t, st, "vpc-2")
	require.Equal(t, state.Drifted, r.State)
	require.Equal(t, state.SyncFailed, r.History[0].Trigger)
	require.Contains(t, r.Reason, "spec.x: Forbidden")

	// The same commit again does not retry the failed object; a new one does.
	s.Committed(target("c1"))
	time.Sleep(100 * time.Millisecond)
	require.Len(t, f.syncs, 1)
	f.mu.Lock()
	f.failed = nil
	f.mu.Unlock()
	s.Committed(target("c2"))
	settled(t, done, st)
	r = stateOf(t, st, "vpc-2")
	require.Equal(t, state.Synced, r.State)
	require.Equal(t, []state.Trigger{state.SyncComplete, state.ForceSyncToCluster}, []state.Trigger{r.History[0].Trigger, r.History[1].Trigger})
}

func TestSyncerTimeoutGoesBackToCommitted(t *testing.T) {
	f := &fakeArgo{never: true}
	s, st, done := setupSyncer(t, f, 200*time.Millisecond)
	s.Committed(target("c1"))
	var r state.Record
	for r.State != state.Committed { // shown back in committed (before the retry asks again)
		select {
		case <-done:
			r = stateOf(t, st, "vpc-1")
		case <-time.After(5 * time.Second):
			t.Fatal("never back in committed")
		}
	}
	require.Equal(t, state.Committed, r.State)
	require.Equal(t, state.SyncTimeout, r.History[0].Trigger)
	require.Contains(t, r.Reason, "did not apply")
	require.Eventually(t, func() bool { return s.Report().Status == health.Degraded }, 5*time.Second, 10*time.Millisecond,
		"the failed attempt is recorded after the states moved back")
}

// An Application of the fabric's name that is not ours is told on the
// fabric once per offer, is not an Argo CD outage (health stays ok) and is
// not retried until the fabric's next commit.
func TestForeignApplicationIsNotAnOutage(t *testing.T) {
	f := &fakeArgo{foreign: true}
	s, _, _ := setupSyncer(t, f, time.Minute)
	told := make(chan error, 10)
	tg := target("c1")
	tg.Ensured = func(_ context.Context, err error) { told <- err }
	s.Committed(tg)
	select {
	case err := <-told:
		require.ErrorIs(t, err, ErrForeignApplication)
	case <-time.After(5 * time.Second):
		t.Fatal("the fabric was not told")
	}
	time.Sleep(200 * time.Millisecond) // RetryMax is 50ms: an outage would have been tried again
	f.mu.Lock()
	require.Equal(t, 1, f.ensures, "not retried")
	f.mu.Unlock()
	require.NotEqual(t, health.Down, s.Report().Status)
	require.Empty(t, s.Report().Error, "no failure recorded")
}
