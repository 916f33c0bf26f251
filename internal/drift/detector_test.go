package drift

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// gitFiles stands in for the reconciler's read of Git (tested in gitops).
type gitFiles struct {
	f     netbox.Fabric
	files map[string][]byte
}

func (g gitFiles) Committed(context.Context, int64) (netbox.Fabric, string, map[string][]byte, error) {
	return g.f, "c0ffee", g.files, nil
}

func golden(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "render", "testdata", "golden", p))
	require.NoError(t, err)
	return b
}

// Against a real kube-apiserver holding the Hedgehog CRDs and a real Redis:
// a live edit behind Argo CD's back is drifted with the field's diff, and
// synced again once restored; a deleted CR is drifted as missing; a CR only
// the cluster has is an orphan until it goes; another fabric's CRs are not
// this fabric's orphans; switch agents are converged only when they applied
// their generation and beat recently.
func TestDriftOrphansAndAgents(t *testing.T) {
	cl := clusterenv.Start(t)
	ctx := context.Background()
	dyn, err := cl.Dynamic()
	require.NoError(t, err)
	rdb := redisenv.Start(t).Client(t)
	st, err := state.New(rdb, state.Options{Prefix: "k"}, prometheus.NewRegistry())
	require.NoError(t, err)

	files := map[string][]byte{
		"f/managed/vpcs/vpc-01.yaml":      golden(t, "vpcs/vpc-01.yaml"),
		"f/managed/switches/leaf-01.yaml": golden(t, "switches/leaf-01.yaml"),
		"f/managed/README.md":             []byte("# not a CR\n"),
	}
	fab := netbox.Fabric{ID: 1, Name: "fabric-1"}
	// Argo CD's part: the committed objects are applied.
	for _, f := range files {
		require.NoError(t, cl.Apply(ctx, f))
	}
	key := func(k, name string) state.Key { return state.Key{Fabric: 1, Kind: k, Namespace: "default", Name: name} }
	for _, k := range []state.Key{key("VPC", "vpc-01"), key("Switch", "leaf-01")} {
		for _, c := range []state.Change{{To: state.Committed, Expect: state.None, FabricName: "fabric-1", Path: "p"},
			{To: state.Pending}, {To: state.Synced}} {
			c.Key = k
			require.NoError(t, st.Move(ctx, c))
		}
	}
	var mu sync.Mutex
	shown := 0
	d, err := New(gitFiles{fab, files}, st, cluster.NewClusters(cl.Config, nil), Options{Redis: rdb, Prefix: "k"}, func(_ context.Context, id int64, _ []state.Key) { mu.Lock(); shown += int(id); mu.Unlock() },
		slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	require.NoError(t, err)
	check := func() Report {
		t.Helper()
		rep, err := d.Check(ctx, 1)
		require.NoError(t, err)
		return rep
	}
	stateOf := func(k state.Key) state.Record {
		t.Helper()
		r, err := st.Get(ctx, k)
		require.NoError(t, err)
		return r
	}
	vpcs := dyn.Resource(gvr(mustKind(t, "VPC"))).Namespace("default")

	rep := check()
	require.Equal(t, 2, rep.Compared)
	require.Empty(t, rep.Drifted)
	require.Empty(t, rep.Orphans)
	require.Equal(t, Agents{Installed: true, Switches: 1, NotConverged: []AgentState{{Switch: "default/leaf-01", Reason: "no Agent"}}}, rep.Agents)
	t.Logf("clean check: %d desired, %d live, %d compared in %s", rep.Desired, rep.Live, rep.Compared, rep.Duration)

	// A live edit behind Argo CD's back.
	patch := func(body string) {
		_, err := vpcs.Patch(ctx, "vpc-01", types.MergePatchType, []byte(body), metav1.PatchOptions{FieldManager: "kubectl-edit"})
		require.NoError(t, err)
	}
	patch(`{"spec":{"subnets":{"default":{"vlan":1002}}}}`)
	rep = check()
	require.Equal(t, 1, rep.NewlyDrifted)
	require.Equal(t, []Difference{{Path: "spec.subnets.default.vlan", Git: 1001.0, Live: 1002.0}}, rep.Drifted[0].Diff)
	r := stateOf(key("VPC", "vpc-01"))
	require.Equal(t, state.Drifted, r.State)
	require.Equal(t, "live CR differs from Git: spec.subnets.default.vlan: git 1001, live 1002", r.Reason)
	require.Equal(t, state.DriftDetected, r.History[0].Trigger)
	require.Equal(t, state.Synced, stateOf(key("Switch", "leaf-01")).State, "the others stay synced")
	again := check()
	require.Zero(t, again.NewlyDrifted, "a drifted object is not drifted twice")
	require.Len(t, again.Drifted, 1)

	patch(`{"spec":{"subnets":{"default":{"vlan":1001}}}}`)
	rep = check()
	require.Equal(t, 1, rep.Resolved)
	r = stateOf(key("VPC", "vpc-01"))
	require.Equal(t, state.Synced, r.State)
	require.Equal(t, state.DriftResolved, r.History[0].Trigger)
	require.Empty(t, r.Reason)

	// Deleted behind Argo CD's back: drifted as missing; back: synced.
	require.NoError(t, vpcs.Delete(ctx, "vpc-01", metav1.DeleteOptions{}))
	check()
	r = stateOf(key("VPC", "vpc-01"))
	require.Equal(t, state.Drifted, r.State)
	require.Equal(t, "not in the cluster", r.Reason)
	require.NoError(t, cl.Apply(ctx, files["f/managed/vpcs/vpc-01.yaml"]))
	require.Equal(t, 1, check().Resolved)

	// A CR only the cluster has: an orphan, reported not deleted, until it
	// goes. Another fabric's CR in the same cluster is not this one's.
	require.NoError(t, cl.Apply(ctx, []byte(`{"apiVersion":"vpc.githedgehog.com/v1beta1","kind":"VPC","metadata":{"name":"by-hand","namespace":"default"},"spec":{"subnets":{"default":{"subnet":"10.9.0.0/24","vlan":1900}}}}`),
		[]byte(`{"apiVersion":"vpc.githedgehog.com/v1beta1","kind":"VPC","metadata":{"name":"theirs","namespace":"default","annotations":{"hnp.githedgehog.com/fabric":"fabric-2"}},"spec":{"subnets":{"default":{"subnet":"10.8.0.0/24","vlan":1800}}}}`)))
	rep = check()
	require.Equal(t, []Item{{Kind: "VPC", Namespace: "default", Name: "by-hand", State: state.Orphaned}}, rep.Orphans)
	r = stateOf(key("VPC", "by-hand"))
	require.Equal(t, state.Orphaned, r.State)
	require.Equal(t, orphanReason, r.Reason)
	_, err = vpcs.Get(ctx, "by-hand", metav1.GetOptions{})
	require.NoError(t, err, "never deleted by the sidecar")
	require.Len(t, check().Orphans, 1, "still reported, not recorded twice")
	require.NoError(t, vpcs.Delete(ctx, "by-hand", metav1.DeleteOptions{}))
	require.Empty(t, check().Orphans)
	r = stateOf(key("VPC", "by-hand"))
	require.True(t, r.Gone)
	require.Equal(t, state.RemovedFromCluster, r.History[0].Trigger)

	// The switch's agent: converged when it applied its generation and beat
	// recently.
	agentsRes := dyn.Resource(agentGVR).Namespace("default")
	a, err := agentsRes.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "agent.githedgehog.com/v1beta1", "kind": "Agent",
		"metadata": map[string]any{"name": "leaf-01", "namespace": "default"}, "spec": map[string]any{}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	setStatus := func(applied int64, hb time.Time) {
		a.Object["status"] = map[string]any{"lastAppliedGen": applied, "lastHeartbeat": hb.UTC().Format(time.RFC3339), "conditions": []any{}}
		a, err = agentsRes.UpdateStatus(ctx, a, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	setStatus(a.GetGeneration(), time.Now())
	require.Equal(t, Agents{Installed: true, Switches: 1, Converged: 1}, check().Agents)
	setStatus(a.GetGeneration(), time.Now().Add(-time.Hour))
	rep = check()
	require.Zero(t, rep.Agents.Converged)
	require.Contains(t, rep.Agents.NotConverged[0].Reason, "last heartbeat 1h0m")

	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 6, shown, "fabric 1 shown once per check that changed states")
	t.Logf("a later check: %s", rep.Duration)
	last, ok, err := d.Last(ctx, 1)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, rep, last, "the report read back from Redis")
}

func mustKind(t *testing.T, name string) kind.Kind {
	t.Helper()
	k, ok := kind.Named(name)
	require.True(t, ok)
	return k
}
