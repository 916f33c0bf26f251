package reconcile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func TestChangeTime(t *testing.T) {
	recv := time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC)
	cases := []struct {
		name string
		h    queue.Hint
		want time.Time
	}{
		{"last_updated first", queue.Hint{LastUpdated: "2026-11-25T18:03:57.817601Z", Timestamp: "2026-11-25T18:03:57.841909+00:00", ReceivedAt: recv},
			time.Date(2026, 11, 25, 18, 3, 57, 817601000, time.UTC)},
		{"else the event's time", queue.Hint{Timestamp: "2026-11-25T18:03:57.841909+00:00", ReceivedAt: recv},
			time.Date(2026, 11, 25, 18, 3, 57, 841909000, time.UTC)},
		{"unreadable: when it arrived", queue.Hint{LastUpdated: "yesterday", ReceivedAt: recv}, recv},
	}
	for _, c := range cases {
		require.True(t, c.want.Equal(changeTime(c.h)), c.name)
	}
}

// commitLatency is hnp_sync_latency_seconds{stage="committed"}'s count.
func commitLatency(t *testing.T, reg *prometheus.Registry) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "hnp_sync_latency_seconds" && m.GetLabel()[0].GetValue() == "committed" {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

// Through real NetBox, Git and Redis: a VPC's webhook hint (as the
// receiver records it) makes its commit measured once, from NetBox's
// last_updated, and that time is kept on its record for the sync; runs
// that push nothing new (the periodic one) measure nothing; an edit's
// incremental run measures it again.
func TestCommitLatencyFromTheHint(t *testing.T) {
	e := setup(t, "latency")
	ctx := context.Background()
	rdb := redisenv.Start(t).Client(t)
	reg := prometheus.NewRegistry()
	st, err := state.New(rdb, state.Options{Prefix: "t"}, reg)
	require.NoError(t, err)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := gitops.New(gitops.Options{WorkDir: t.TempDir(), Access: gitAccess(t, e.srv)}, logger)
	require.NoError(t, err)
	qo := queue.DefaultOptions()
	qo.Prefix = "t"
	q, err := queue.New(rdb, qo, logger, prometheus.NewRegistry())
	require.NoError(t, err)
	rec := New(e.nb, w, Defaults{}, logger, WithStates(st), WithSnapshots(known.New(rdb, "t")), WithChangeHints(q))
	id, err := fabric.EnsureFabric(ctx, e.nb, "latency-test", map[string]any{
		"git_repository_url": e.url, "git_branch": "main", "gitops_directory": "/lat/"})
	require.NoError(t, err)
	spec := func(n int) map[string]any {
		return map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": fmt.Sprintf("10.77.%d.0/24", n), "vlan": 1700 + n}}}
	}
	var o netbox.Object
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+"vpcs/", map[string]any{"fabric": id, "name": "lat-1", "spec": spec(1)}, &o))
	hint := func(o netbox.Object, event string) queue.Hint {
		return queue.Hint{ObjectType: "netbox_hedgehog.vpc", ObjectID: o.ID, Kind: "VPC", Event: event, Fabric: id,
			LastUpdated: o.LastUpdated, ReceivedAt: time.Now().UTC()}
	}
	_, err = rec.SyncWithProgress(ctx, id, []queue.Hint{hint(o, "created")}, nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, commitLatency(t, reg))
	key := state.Key{Fabric: id, Kind: "VPC", Namespace: "default", Name: "lat-1"}
	r, err := st.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, state.Committed, r.State)
	lu, err := time.Parse(time.RFC3339Nano, o.LastUpdated)
	require.NoError(t, err)
	require.NotNil(t, r.ChangedAt)
	require.True(t, lu.Equal(*r.ChangedAt), "the record keeps NetBox's change time: %s, want %s", r.ChangedAt, lu)

	_, err = rec.SyncFabric(ctx, id) // the periodic run: nothing new
	require.NoError(t, err)
	_, err = rec.SyncWithProgress(ctx, id, []queue.Hint{hint(o, "updated")}, nil) // the same hint again: nothing pushed
	require.NoError(t, err)
	require.EqualValues(t, 1, commitLatency(t, reg), "each change once")

	require.NoError(t, e.nb.Do(ctx, http.MethodPatch, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, o.ID), map[string]any{"spec": spec(2)}, &o))
	res, err := rec.SyncObject(ctx, id, mustKind(t, "VPC"), o.ID, []queue.Hint{hint(o, "updated")})
	require.NoError(t, err)
	require.True(t, res.Committed)
	require.EqualValues(t, 2, commitLatency(t, reg), "the edit's incremental run measures it")

	// Another key's full run pushes lat-2's change: measured from the hint
	// its own key holds in the queue (that key's run then finds it covered).
	var o2 netbox.Object
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+"vpcs/", map[string]any{"fabric": id, "name": "lat-2", "spec": spec(3)}, &o2))
	_, err = q.Enqueue(ctx, hint(o2, "created"))
	require.NoError(t, err)
	_, err = rec.SyncWithProgress(ctx, id, []queue.Hint{{ObjectType: "netbox_hedgehog.hedgehogfabric", ObjectID: id, Kind: "Fabric",
		Event: "updated", ReceivedAt: time.Now().UTC()}}, nil)
	require.NoError(t, err)
	require.EqualValues(t, 3, commitLatency(t, reg))
	r, err = st.Get(ctx, state.Key{Fabric: id, Kind: "VPC", Namespace: "default", Name: "lat-2"})
	require.NoError(t, err)
	require.NotNil(t, r.ChangedAt)
}
