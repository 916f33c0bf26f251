package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// showNetBox serves objects by kind and id and a fabric, and records the
// writes; down makes every read fail.
type showNetBox struct {
	objects map[patchKey]netbox.Object
	fabric  netbox.Fabric
	down    bool
	patches map[patchKey]map[string]any
	fabrics []map[string]any
}

func (n *showNetBox) GetObject(_ context.Context, k kind.Kind, id int64) (netbox.Object, error) {
	if n.down {
		return netbox.Object{}, errors.New("netbox: dial: connection refused")
	}
	o, ok := n.objects[patchKey{k.Name, id}]
	if !ok {
		return o, netbox.ErrNotFound
	}
	return o, nil
}
func (n *showNetBox) GetFabric(context.Context, int64) (netbox.Fabric, error) {
	if n.down {
		return netbox.Fabric{}, errors.New("netbox: dial: connection refused")
	}
	return n.fabric, nil
}
func (n *showNetBox) GetGitRepository(context.Context, int64) (netbox.GitRepository, error) {
	return netbox.GitRepository{}, nil
}
func (n *showNetBox) ListObjects(context.Context, kind.Kind, int64) ([]netbox.Object, error) {
	return nil, nil
}
func (n *showNetBox) PatchObjects(_ context.Context, k kind.Kind, ps []netbox.Patch) (netbox.PatchResult, error) {
	for _, p := range ps {
		n.patches[patchKey{k.Name, p.ID}] = p.Fields
	}
	return netbox.PatchResult{}, nil
}
func (n *showNetBox) PatchFabric(_ context.Context, _ int64, f map[string]any) error {
	n.fabrics = append(n.fabrics, f)
	return nil
}
func (n *showNetBox) AddJournalEntries(context.Context, []netbox.JournalEntry) error { return nil }

func showSetup(t *testing.T, nb *showNetBox) (*Reconciler, *state.Store) {
	t.Helper()
	rdb := redisenv.Start(t).Client(t)
	st, err := state.New(rdb, state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	probs, err := problems.New(rdb, "t", prometheus.NewRegistry())
	require.NoError(t, err)
	nb.patches = map[patchKey]map[string]any{}
	return New(nb, nil, Defaults{}, slog.New(slog.DiscardHandler), WithStates(st), WithWriteBack(nb), WithProblems(probs)), st
}

func key7(k, name string) state.Key {
	return state.Key{Fabric: 7, Kind: k, Namespace: "default", Name: name}
}

// NetBox ids are per kind: VPC 1 and Switch 1 are two objects, and each is
// written from its own record.
func TestShowStatesWritesEachObjectsOwnRecord(t *testing.T) {
	nb := &showNetBox{objects: map[patchKey]netbox.Object{
		{"VPC", 1}:    {ID: 1, Name: "vpc-1", KubernetesStatus: "pending", LastUpdated: "v1"},
		{"Switch", 1}: {ID: 1, Name: "s1", KubernetesStatus: "pending", LastUpdated: "s1"},
	}, fabric: netbox.Fabric{ID: 7, Name: "f", SyncStatus: "syncing", DriftStatus: "in_sync"}}
	r, st := showSetup(t, nb)
	ctx := t.Context()
	require.NoError(t, st.Move(ctx, state.Change{Key: key7("VPC", "vpc-1"), To: state.Draft, NetBoxID: 1, Reason: "vpc is bad"}))
	require.NoError(t, st.Move(ctx, state.Change{Key: key7("Switch", "s1"), To: state.Committed, NetBoxID: 1, Commit: "c1"}))
	require.NoError(t, st.Move(ctx, state.Change{Key: key7("Switch", "s1"), To: state.Synced, Commit: "c1"}))

	r.ShowStates(ctx, 7, []state.Key{key7("Switch", "s1")})
	require.Equal(t, map[patchKey]map[string]any{{"Switch", 1}: {"kubernetes_status": "live"}}, nb.patches,
		"the switch's own state, nothing of VPC 1's")
	marked, err := st.ToShow(ctx)
	require.NoError(t, err)
	require.Empty(t, marked, "shown: unmarked")
}

// A run's older fabric values merged with a show are not written over the
// fresh ones: the fabric stays drifted.
func TestShowStatesOverridesAMergedRunsStateFields(t *testing.T) {
	nb := &showNetBox{objects: map[patchKey]netbox.Object{{"VPC", 1}: {ID: 1, KubernetesStatus: "error", LastUpdated: "v1"}},
		fabric: netbox.Fabric{ID: 7, Name: "f", SyncStatus: "error", DriftStatus: "drift_detected", DriftCount: 1}}
	r, st := showSetup(t, nb)
	ctx := t.Context()
	require.NoError(t, st.Move(ctx, state.Change{Key: key7("VPC", "vpc-1"), To: state.Committed, NetBoxID: 1, Commit: "c1"}))
	require.NoError(t, st.Move(ctx, state.Change{Key: key7("VPC", "vpc-1"), To: state.Synced, Commit: "c1"}))
	require.NoError(t, st.Move(ctx, state.Change{Key: key7("VPC", "vpc-1"), To: state.Drifted, Reason: "vlan"}))
	run := &wbBatch{fabric: 7, name: "f", patches: map[patchKey]map[string]any{}, lastUpdated: map[patchKey]string{},
		fabricFields: map[string]any{"drift_status": "in_sync", "drift_count": 0, "sync_status": "in_sync", "desired_state_commit": "c1"}}
	run.merge(&wbBatch{fabric: 7, show: map[string]bool{state.Field("VPC", "default", "vpc-1"): true}})
	r.writer.write(ctx, run)
	require.Equal(t, []map[string]any{{"desired_state_commit": "c1"}}, nb.fabrics, "only the run's own field; its stale states are dropped")
}

// A show that cannot reach NetBox stays marked in Redis and is written by
// a later try.
func TestShownStatesStayMarkedUntilWritten(t *testing.T) {
	nb := &showNetBox{objects: map[patchKey]netbox.Object{{"VPC", 1}: {ID: 1, KubernetesStatus: "pending", LastUpdated: "v1"}},
		fabric: netbox.Fabric{ID: 7, Name: "f"}, down: true}
	r, st := showSetup(t, nb)
	ctx := t.Context()
	require.NoError(t, st.Move(ctx, state.Change{Key: key7("VPC", "vpc-1"), To: state.Committed, NetBoxID: 1, Commit: "c1"}))
	require.NoError(t, st.Move(ctx, state.Change{Key: key7("VPC", "vpc-1"), To: state.Synced, Commit: "c1"}))
	r.ShowStates(ctx, 7, []state.Key{key7("VPC", "vpc-1")})
	require.Empty(t, nb.patches)
	marked, err := st.ToShow(ctx)
	require.NoError(t, err)
	require.Equal(t, map[int64][]string{7: {state.Field("VPC", "default", "vpc-1")}}, marked)

	nb.down = false
	r.showMarked(ctx) // what RunWriteBack does at start and every minute
	require.Equal(t, map[string]any{"kubernetes_status": "live"}, nb.patches[patchKey{"VPC", 1}])
	marked, err = st.ToShow(ctx)
	require.NoError(t, err)
	require.Empty(t, marked)
}
