package reconcile

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

const (
	lu0 = "2026-12-07T10:00:00.100000Z"
	lu1 = "2026-12-07T10:00:01.200000Z" // after our PATCH
	lu2 = "2026-12-07T10:00:02.300000Z" // after someone's edit
)

func TestToSend(t *testing.T) {
	synced := "2026-12-07T09:59:59.5Z"
	want := map[string]any{"git_file_path": "f/vpc-1.yaml", "kubernetes_status": "pending", "last_synced": synced}
	ours := netbox.Object{LastUpdated: lu1, GitFilePath: "f/vpc-1.yaml", KubernetesStatus: "pending",
		LastSynced: "2026-12-07T09:59:59.500000+00:00"}
	cases := []struct {
		name  string
		want  map[string]any
		base  string
		known netbox.Object
		has   bool
		send  map[string]any
		etag  string
	}{
		{"nothing known: the run's read", want, lu0, netbox.Object{}, false, want, lu0},
		{"the run read after our write: its read", want, lu2, ours, true, want, lu2},
		{"stale read, our write holds it all: skipped", want, lu0, ours, true, nil, lu1},
		{"same read as known, all held: skipped", want, lu1, ours, true, nil, lu1},
		{"stale read, one value new: only it, newest ETag", map[string]any{"git_file_path": "f/vpc-1.yaml", "kubernetes_status": "live"},
			lu0, ours, true, map[string]any{"kubernetes_status": "live"}, lu1},
		{"sync_error cleared", map[string]any{"sync_error": ""}, lu0, netbox.Object{LastUpdated: lu1, SyncError: "bad"}, true,
			map[string]any{"sync_error": ""}, lu1},
		{"sync_error already clear", map[string]any{"sync_error": ""}, lu0, netbox.Object{LastUpdated: lu1}, true, nil, lu1},
		{"unknown field always sent", map[string]any{"other": "x"}, lu0, ours, true, map[string]any{"other": "x"}, lu1},
		{"unreadable base: the known version", want, "", ours, true, nil, lu1},
		{"unreadable known: the run's read", want, lu0, netbox.Object{LastUpdated: "?"}, true, want, lu0},
		{"nothing wanted", map[string]any{}, lu0, netbox.Object{}, false, nil, lu0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			send, etag := toSend(c.want, c.base, c.known, c.has)
			require.Equal(t, c.send, send)
			require.Equal(t, c.etag, etag)
		})
	}
}

func TestNewer(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{lu1, lu0, true}, {lu0, lu1, false}, {lu1, lu1, false},
		{"2026-12-07T10:00:01.2+00:00", lu1, false}, // same instant, other rendering
		{lu0, "", true}, {"", lu0, false}, {"", "", false},
	} {
		require.Equal(t, c.want, newer(c.a, c.b), "%q after %q", c.a, c.b)
	}
}

func TestMemVersionsKeepTheNewest(t *testing.T) {
	v := newMemVersions()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	v.now = func() time.Time { return now }
	k := patchKey{"VPC", 1}
	ctx := t.Context()
	require.NoError(t, v.Saw(ctx, 7, map[patchKey]netbox.Object{k: {ID: 1, LastUpdated: lu1, GitFilePath: "p", Name: "dropped"}}))
	require.NoError(t, v.Saw(ctx, 7, map[patchKey]netbox.Object{k: {ID: 1, LastUpdated: lu0}}), "an older read")
	got, err := v.Newest(ctx, 7, []patchKey{k, {"VPC", 2}})
	require.NoError(t, err)
	require.Equal(t, map[patchKey]netbox.Object{k: {ID: 1, LastUpdated: lu1, GitFilePath: "p"}}, got)
	got, _ = v.Newest(ctx, 8, []patchKey{k})
	require.Empty(t, got, "per fabric")
	now = now.Add(versionTTL)
	got, _ = v.Newest(ctx, 7, []patchKey{k})
	require.Empty(t, got, "expired")
}

// A newer run's read replaces an older run's patch of the same object,
// and a newer run that saw an object and wants nothing written takes back
// the older patch: NetBox held the values at that newer read.
func TestMergeNewerReadWins(t *testing.T) {
	k1, k2, k3 := patchKey{"VPC", 1}, patchKey{"VPC", 2}, patchKey{"VPC", 3}
	obj := func(lu string) netbox.Object { return netbox.Object{LastUpdated: lu} }
	run := func(patches map[patchKey]map[string]any, read map[patchKey]string, seen map[patchKey]string) *wbBatch {
		b := &wbBatch{fabric: 1, fabricFields: map[string]any{}, patches: patches, lastUpdated: read, seen: seen,
			base: map[patchKey]netbox.Object{}}
		for k, lu := range read {
			b.base[k] = obj(lu)
		}
		return b
	}
	old := run(map[patchKey]map[string]any{
		k1: {"git_file_path": "p", "kubernetes_status": "pending"}, k2: {"kubernetes_status": "pending"}, k3: {"sync_error": "x"}},
		map[patchKey]string{k1: lu0, k2: lu0, k3: lu1}, nil)
	n := run(map[patchKey]map[string]any{k1: {"kubernetes_status": "live"}}, map[patchKey]string{k1: lu1},
		map[patchKey]string{k1: lu1, k2: lu1, k3: lu0})
	old.merge(n)
	require.Equal(t, map[patchKey]map[string]any{k1: {"kubernetes_status": "live"}, k3: {"sync_error": "x"}}, old.patches,
		"k1 from the newer read alone; k2 held by NetBox at the newer read; k3's patch is from a newer read than n's")
	require.Equal(t, map[patchKey]string{k1: lu1, k3: lu1}, old.lastUpdated)
	require.Equal(t, obj(lu1), old.base[k1])

	// a later run from the same read that wants nothing written cancels
	// the earlier run's patch (found in review: a stale sync_error was
	// written after the object had turned valid)
	same := run(map[patchKey]map[string]any{}, map[patchKey]string{}, map[patchKey]string{k3: lu1})
	old.merge(same)
	require.NotContains(t, old.patches, k3)

	// an older read merged after a newer one keeps the newer decision;
	// patches of states shown outside a run (no read) add up
	late := run(map[patchKey]map[string]any{k1: {"git_file_path": "q"}}, map[patchKey]string{k1: lu0}, nil)
	old.merge(late)
	require.Equal(t, map[string]any{"kubernetes_status": "live"}, old.patches[k1])
	shown := &wbBatch{fabric: 1, fabricFields: map[string]any{}, patches: map[patchKey]map[string]any{k1: {"last_synced": "t"}},
		lastUpdated: map[patchKey]string{k1: lu0}}
	old.merge(shown)
	require.Equal(t, map[string]any{"kubernetes_status": "live", "last_synced": "t"}, old.patches[k1])
	require.Equal(t, lu1, old.lastUpdated[k1])
}
