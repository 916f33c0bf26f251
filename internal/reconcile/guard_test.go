package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
)

func (e evEnv) tip(t *testing.T) string {
	t.Helper()
	tip, _, err := e.w.Files(context.Background(), e.url, "main", e.dir)
	require.NoError(t, err)
	return tip
}

func requireGuard(t *testing.T, err error, want string) {
	t.Helper()
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	require.Contains(t, ce.Reason, want)
	require.Contains(t, ce.Reason, "hnp-sidecar resync --fabric "+ce.Fabric+" --allow-deletes")
}

// A 404 removes one file; removing most files needs a delete webhook for
// each, or the user's confirmation; without either nothing is pushed.
func TestDeletionNeedsEvidenceAndTheGuard(t *testing.T) {
	e := newEvEnv(t, "guard", 10)
	ctx := context.Background()
	_, err := e.rec.SyncFabric(ctx, e.fabric)
	require.NoError(t, err)

	e.deleteVPC(t, "vpc-00")
	_, err = e.rec.SyncFabric(ctx, e.fabric)
	require.NoError(t, err)
	require.Len(t, e.vpcFiles(t), 9, "a 404 by id is evidence")

	var hints []queue.Hint
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("vpc-%02d", i)
		e.deleteVPC(t, name)
		hints = append(hints, deleted(vpcKind, e.vpcs[name]))
	}
	before := e.tip(t)
	_, err = e.rec.SyncFabric(ctx, e.fabric)
	requireGuard(t, err, "would remove 6 of its 9 files in Git (more than 50%)")
	require.Equal(t, before, e.tip(t), "nothing pushed")
	require.Len(t, e.vpcFiles(t), 9)

	res, err := e.rec.Sync(ctx, e.fabric, hints)
	require.NoError(t, err, "a delete webhook for each is evidence enough")
	require.True(t, res.Committed)
	require.ElementsMatch(t, []string{"vpc-07", "vpc-08", "vpc-09"}, e.vpcFiles(t))

	e.deleteVPC(t, "vpc-07")
	e.deleteVPC(t, "vpc-08")
	before = e.tip(t)
	_, err = e.rec.SyncFabric(ctx, e.fabric)
	requireGuard(t, err, "would remove 2 of its 3 files")
	require.Equal(t, before, e.tip(t))
	confirmed := queue.Hint{ObjectType: kind.Fabric.ObjectType(), ObjectID: e.fabric, Kind: kind.Fabric.Name,
		Event: EventResyncAllowDeletes, RequestID: JobPrefix + "confirm"}
	res, err = e.rec.Sync(ctx, e.fabric, []queue.Hint{confirmed})
	require.NoError(t, err, "--allow-deletes")
	require.True(t, res.Committed)
	require.Equal(t, []string{"vpc-09"}, e.vpcFiles(t))

	e.deleteVPC(t, "vpc-09")
	_, err = e.rec.SyncFabric(ctx, e.fabric)
	require.NoError(t, err, "one file (the floor) never needs a confirmation")
	require.Empty(t, e.vpcFiles(t))
}

// A token whose permission hides the fabric's VPCs sees none of them and
// 404 for each: the guard keeps Git as it is, and the visibility check
// names the constraint.
func TestRestrictedTokenEmptiesNothing(t *testing.T) {
	e := newEvEnv(t, "restricted", 4)
	ctx := context.Background()
	_, err := e.rec.SyncFabric(ctx, e.fabric)
	require.NoError(t, err)
	before := e.tip(t)

	var types []string
	for _, k := range kind.All() {
		if k.Name != "VPC" {
			types = append(types, k.ObjectType())
		}
	}
	var u struct{ ID int64 }
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, "/api/users/users/", map[string]any{"username": "restricted-sidecar",
		"password": "Pw-restricted-0123456789!"}, &u))
	for _, p := range []map[string]any{
		{"name": "sidecar: all but VPCs", "object_types": types, "actions": []string{"view", "change"}},
		{"name": "sidecar: some VPCs", "object_types": []string{vpcKind.ObjectType()}, "actions": []string{"view"},
			"constraints": map[string]any{"name": "no-such-vpc"}},
		{"name": "sidecar: read permissions", "object_types": []string{"users.objectpermission"}, "actions": []string{"view"}},
	} {
		p["users"] = []int64{u.ID}
		require.NoError(t, e.nb.Do(ctx, http.MethodPost, "/api/users/permissions/", p, nil))
	}
	var tok struct {
		Key   string `json:"key"`
		Token string `json:"token"`
	}
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, "/api/users/tokens/", map[string]any{"user": u.ID, "write_enabled": true}, &tok))
	secret := tok.Token
	if tok.Key != "" {
		secret = "nbt_" + tok.Key + "." + tok.Token
	}
	restricted, err := netbox.New(netbox.Options{URL: netboxenv.Get(t).URL, Token: secret})
	require.NoError(t, err)

	_, err = e.recWith(t, restricted).SyncFabric(ctx, e.fabric)
	requireGuard(t, err, "would remove 4 of its 4 files")
	require.Equal(t, before, e.tip(t), "nothing pushed")
	require.Len(t, e.vpcFiles(t), 4)

	v, err := restricted.CheckVisibility(ctx, kind.All(), []int64{e.fabric})
	require.NoError(t, err)
	require.Equal(t, "restricted-sidecar", v.User)
	require.Len(t, v.Problems, 1, "%v", v.Problems)
	require.Contains(t, v.Problems[0], "may view only some netbox_hedgehog.vpc objects")
	require.Contains(t, v.Problems[0], "no-such-vpc")

	admin, err := e.nb.CheckVisibility(ctx, kind.All(), []int64{e.fabric})
	require.NoError(t, err)
	require.Empty(t, admin.Problems, "the superuser sees everything")
	missing, err := e.nb.CheckVisibility(ctx, kind.All(), []int64{e.fabric + 100000})
	require.NoError(t, err)
	require.Len(t, missing.Problems, 1)
	require.Contains(t, missing.Problems[0], fmt.Sprintf("may not view fabric %d", e.fabric+100000))
	require.False(t, errors.Is(err, netbox.ErrNotFound))
}
