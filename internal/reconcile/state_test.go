package reconcile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// countingWriteBack is the real NetBox client, with its writes counted.
type countingWriteBack struct {
	*netbox.Client
	writes atomic.Int64
}

func (c *countingWriteBack) PatchObjects(ctx context.Context, k kind.Kind, p []netbox.Patch) (netbox.PatchResult, error) {
	c.writes.Add(1)
	return c.Client.PatchObjects(ctx, k, p)
}

func (c *countingWriteBack) PatchFabric(ctx context.Context, id int64, f map[string]any) error {
	c.writes.Add(1)
	return c.Client.PatchFabric(ctx, id, f)
}

func (c *countingWriteBack) AddJournalEntries(ctx context.Context, e []netbox.JournalEntry) error {
	c.writes.Add(1)
	return c.Client.AddJournalEntries(ctx, e)
}

// Through real NetBox, Redis and Git: a VPC goes draft -> committed with
// the pushed SHA and NetBox shows it; an invalid one stays draft with its
// reason in sync_error until fixed; a delete orphans it until the removal
// is pushed.
func TestStatesAndWriteBack(t *testing.T) {
	e := setup(t, "states")
	ctx := context.Background()
	st, err := state.New(redisenv.Start(t).Client(t), state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	wb := &countingWriteBack{Client: e.nb}
	w, err := gitops.New(gitops.Options{WorkDir: t.TempDir(),
		Access: gitAccess(t, e.srv)}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	rec := New(e.nb, w, Defaults{}, slog.New(slog.NewTextHandler(io.Discard, nil)), WithStates(st), WithWriteBack(wb))

	id, err := fabric.EnsureFabric(ctx, e.nb, "states-test", map[string]any{
		"git_repository_url": e.url, "git_branch": "main", "gitops_directory": "/st/"})
	require.NoError(t, err)
	vpc := func(name, subnet string) map[string]any {
		return map[string]any{"fabric": id, "name": name,
			"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": subnet, "vlan": 1500}}}}
	}
	var good, bad netbox.Object
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+"vpcs/", vpc("vpc-good", "10.5.1.0/24"), &good))
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+"vpcs/", vpc("vpc-bad", "10.5.2.0/31"), &bad))

	res, err := rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	require.True(t, res.Committed)
	key := func(name string) state.Key {
		return state.Key{Fabric: id, Kind: "VPC", Namespace: "default", Name: name}
	}
	r, err := st.Get(ctx, key("vpc-good"))
	require.NoError(t, err)
	require.Equal(t, state.Committed, r.State)
	require.Equal(t, res.Commit, r.Commit)
	require.Equal(t, []state.Trigger{state.CommitToGit, state.Observed}, triggers(r))
	r, err = st.Get(ctx, key("vpc-bad"))
	require.NoError(t, err)
	require.Equal(t, state.Draft, r.State)
	require.Contains(t, r.Reason, "/31")

	got := getVPC(t, e.nb, good.ID)
	require.Equal(t, "st/managed/vpcs/vpc-good.yaml", got.GitFilePath)
	require.NotEmpty(t, got.LastSynced)
	require.Equal(t, "pending", got.KubernetesStatus)
	require.Empty(t, got.SyncError)
	require.Contains(t, journal(t, e.nb, good.ID), res.Commit)
	badNow := getVPC(t, e.nb, bad.ID)
	require.Contains(t, badNow.SyncError, "/31")
	require.Equal(t, "error", badNow.KubernetesStatus)
	f, err := e.nb.GetFabric(ctx, id)
	require.NoError(t, err)
	require.Equal(t, res.Commit, f.DesiredStateCommit)
	require.Equal(t, netbox.SyncStatusError, f.SyncStatus, "an invalid object: out of sync, which the plugin's database stores as error")

	// Nothing changed: no state moves, nothing written to NetBox.
	writes := wb.writes.Load()
	again, err := rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	require.False(t, again.Committed)
	require.Equal(t, writes, wb.writes.Load(), "unchanged values are not written again")

	// Fix the invalid VPC in NetBox.
	require.NoError(t, e.nb.Do(ctx, http.MethodPatch, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, bad.ID), vpc("vpc-bad", "10.5.2.0/24"), nil))
	res, err = rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	r, err = st.Get(ctx, key("vpc-bad"))
	require.NoError(t, err)
	require.Equal(t, state.Committed, r.State)
	require.Equal(t, res.Commit, r.Commit)
	require.Empty(t, getVPC(t, e.nb, bad.ID).SyncError, "success clears sync_error")
	f, err = e.nb.GetFabric(ctx, id)
	require.NoError(t, err)
	require.Equal(t, res.Commit, f.DesiredStateCommit)
	// The July-2025 plugin's database refuses in_sync (and its serializer
	// the synced its database wants): the status goes to the journal.
	require.Equal(t, netbox.SyncStatusError, f.SyncStatus)
	require.Contains(t, journalOf(t, e.nb, "hedgehogfabric", id), "GitOps status of this fabric: sync_status=in_sync. "+
		"(NetBox refused to store it in the fabric's fields: HTTP 500: IntegrityError: ")

	// Delete: orphaned, then the removal is pushed and the record ends.
	require.NoError(t, e.nb.Do(ctx, http.MethodDelete, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, good.ID), nil, nil))
	res, err = rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	require.True(t, res.Committed)
	r, err = st.Get(ctx, key("vpc-good"))
	require.NoError(t, err)
	require.True(t, r.Gone)
	require.Equal(t, []state.Trigger{state.RemovedFromGit, state.Observed, state.DeletedInNetBox, state.CommitToGit, state.Observed}, triggers(r))
	require.Equal(t, state.Orphaned, r.History[1].To)
	require.Equal(t, res.Commit, r.History[0].Commit)
	require.NotContains(t, e.files(t, "st/managed/vpcs"), "st/managed/vpcs/vpc-good.yaml")
}

func triggers(r state.Record) []state.Trigger {
	var out []state.Trigger
	for _, h := range r.History {
		out = append(out, h.Trigger)
	}
	return out
}

func getVPC(t *testing.T, nb *netbox.Client, id int64) netbox.Object {
	t.Helper()
	k, _ := kind.Named("VPC")
	o, err := nb.GetObject(context.Background(), k, id)
	require.NoError(t, err)
	return o
}

func journal(t *testing.T, nb *netbox.Client, id int64) string {
	t.Helper()
	return journalOf(t, nb, "vpc", id)
}

// journalOf is the text of the journal entries of one plugin object
// (model as in netbox_hedgehog.<model>), one per line.
func journalOf(t *testing.T, nb *netbox.Client, model string, id int64) string {
	t.Helper()
	var page struct {
		Results []struct {
			Comments string `json:"comments"`
		} `json:"results"`
	}
	require.NoError(t, nb.Do(context.Background(), http.MethodGet,
		fmt.Sprintf("/api/extras/journal-entries/?limit=1000&assigned_object_type=netbox_hedgehog.%s&assigned_object_id=%d", model, id), nil, &page))
	s := ""
	for _, r := range page.Results {
		s += r.Comments + "\n"
	}
	return s
}
