package netbox

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
)

func TestETag(t *testing.T) {
	require.Equal(t, `W/"2026-11-25T10:00:00.123400+00:00"`, etag("2026-11-25T10:00:00.1234Z"))
	require.Equal(t, `W/"2026-11-25T10:00:00+00:00"`, etag("2026-11-25T10:00:00Z"))
	require.Empty(t, etag(""))
}

// A write-back must never undo an engineer's edit made since the object
// was read: NetBox refuses it (If-Match) and it is counted, not applied.
func TestPatchObjectsSkipsObjectsChangedMeanwhile(t *testing.T) {
	env := netboxenv.Get(t)
	c := client(t, env, 50)
	ctx := context.Background()
	vpcKind, _ := kind.Named("VPC")
	var f Fabric
	require.NoError(t, c.Do(ctx, http.MethodPost, PluginPath+"fabrics/", map[string]any{"name": "fab-ifmatch", "watch_crd_types": []string{"VPC"}}, &f))
	var read Object
	require.NoError(t, c.Do(ctx, http.MethodPost, PluginPath+"vpcs/", map[string]any{"fabric": f.ID, "name": "vpc-if",
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.1.0.0/24", "vlan": 1001}}}}, &read))

	// The engineer edits after the sidecar read the object.
	require.NoError(t, c.Do(ctx, http.MethodPatch, fmt.Sprintf("%svpcs/%d/", PluginPath, read.ID), map[string]any{"name": "vpc-if2"}, nil))
	res, err := c.PatchObjects(ctx, vpcKind, []Patch{{ID: read.ID, LastUpdated: read.LastUpdated, Fields: map[string]any{"sync_error": "stale"}}})
	require.NoError(t, err)
	require.Equal(t, []int64{read.ID}, res.Conflicted)
	now, err := c.GetObject(ctx, vpcKind, read.ID)
	require.NoError(t, err)
	require.Equal(t, "vpc-if2", now.Name, "the edit stays")
	require.Empty(t, now.SyncError)

	res, err = c.PatchObjects(ctx, vpcKind, []Patch{{ID: read.ID, LastUpdated: now.LastUpdated, Fields: map[string]any{"sync_error": "fresh"}}})
	require.NoError(t, err)
	require.Empty(t, res.Conflicted)
	require.Len(t, res.Saved, 1, "NetBox's answer to the write")
	saved := res.Saved[0]
	now, err = c.GetObject(ctx, vpcKind, read.ID)
	require.NoError(t, err)
	require.Equal(t, "fresh", now.SyncError)
	require.Equal(t, "vpc-if2", now.Name)
	require.Equal(t, now.LastUpdated, saved.LastUpdated, "the answer carries the object's new last_updated")
	require.Equal(t, "fresh", saved.SyncError)

	// The answer's last_updated is the next write's ETag: no re-read needed.
	res, err = c.PatchObjects(ctx, vpcKind, []Patch{{ID: read.ID, LastUpdated: saved.LastUpdated, Fields: map[string]any{"sync_error": "again"}}})
	require.NoError(t, err)
	require.Empty(t, res.Conflicted)
	require.Len(t, res.Saved, 1)
}
