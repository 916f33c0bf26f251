package reconcile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// resCounting is the real NetBox client with its gitops-resources/ calls
// counted by method.
type resCounting struct {
	*netbox.Client
	mu    sync.Mutex
	calls map[string]int
}

func (c *resCounting) count(m string) {
	c.mu.Lock()
	c.calls[m]++
	c.mu.Unlock()
}

func (c *resCounting) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

func (c *resCounting) ListResources(ctx context.Context, fabric int64) ([]netbox.Resource, error) {
	c.count("list")
	return c.Client.ListResources(ctx, fabric)
}

func (c *resCounting) CreateResource(ctx context.Context, f map[string]any) (netbox.Resource, error) {
	c.count("create")
	return c.Client.CreateResource(ctx, f)
}

func (c *resCounting) PatchResource(ctx context.Context, id int64, f map[string]any) error {
	c.count("patch")
	return c.Client.PatchResource(ctx, id, f)
}

func (c *resCounting) DeleteResource(ctx context.Context, id int64) error {
	c.count("delete")
	return c.Client.DeleteResource(ctx, id)
}

// Through real NetBox, Git and Redis: a full run creates one
// HedgehogResource per object (one list to build the mirror, no other
// read); a run with nothing new sends nothing; a mirror lost from Redis is
// rebuilt from one list and adopts what NetBox holds (no duplicate, no
// write); an object deleted in NetBox loses its HedgehogResource.
func TestResourcesFollowRunsThroughRealNetBox(t *testing.T) {
	const n = 6
	e := setup(t, "hr-runs")
	ctx := t.Context()
	st, err := state.New(redisenv.Start(t).Client(t), state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	id, created := fabricOfVPCs(t, e, "hr-runs", "hr-%d", n, 78, 1200)
	wb := &resCounting{Client: e.nb, calls: map[string]int{}}
	rec := New(e.nb, e.rec.git, Defaults{}, slog.New(slog.NewTextHandler(io.Discard, nil)), WithStates(st), WithWriteBack(wb))
	require.Equal(t, ResourcesUnknown, rec.ResourcesStatus())
	run := func() map[string]int {
		t.Helper()
		_, err := rec.SyncFabric(ctx, id)
		require.NoError(t, err)
		return wb.take()
	}
	listed := func() map[string]netbox.Resource {
		rs, err := e.nb.ListResources(ctx, id)
		require.NoError(t, err)
		out := map[string]netbox.Resource{}
		for _, r := range rs {
			out[r.Name] = r
		}
		return out
	}

	require.Equal(t, map[string]int{"list": 1, "create": n}, run())
	require.Equal(t, ResourcesOn, rec.ResourcesStatus())
	got := listed()
	require.Len(t, got, n)
	r0 := got["hr-0"]
	require.Equal(t, "committed", r0.ResourceState)
	require.Equal(t, "desired_only", r0.DriftStatus)
	require.Len(t, r0.DesiredCommit, 40)
	require.Equal(t, "hr-runs/managed/vpcs/hr-0.yaml", r0.DesiredFilePath)
	require.Equal(t, "vpc.githedgehog.com/v1beta1", r0.APIVersion)
	require.Equal(t, created[0].ID, *r0.ObjectID)
	require.NotZero(t, r0.ContentType)

	require.Empty(t, run(), "nothing changed: no request")

	require.NoError(t, st.SetMirrored(ctx, id, nil, nil, false, true)) // the mirror lost
	require.Equal(t, map[string]int{"list": 1}, run(), "rebuilt from one list; what NetBox holds is adopted")
	require.Len(t, listed(), n)

	require.NoError(t, e.nb.Do(ctx, http.MethodDelete, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, created[1].ID), nil, nil))
	require.Equal(t, map[string]int{"delete": 1}, run())
	got = listed()
	require.Len(t, got, n-1)
	require.NotContains(t, got, "hr-1")

	// Someone deleted one in NetBox; the next change of its state creates it again.
	require.NoError(t, e.nb.DeleteResource(ctx, got["hr-2"].ID))
	require.NoError(t, e.nb.Do(ctx, http.MethodPatch, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, created[2].ID),
		map[string]any{"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.78.2.0/24", "vlan": 1290}}}}, nil))
	require.Equal(t, map[string]int{"patch": 1, "create": 1}, run())
	require.Len(t, listed(), n-1)
}
