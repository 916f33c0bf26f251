package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

func (e evEnv) read(t *testing.T, p string) string {
	t.Helper()
	co := filepath.Join(t.TempDir(), "co")
	gitenv.Git(t, "", "clone", "-q", e.srv.AuthURL(e.url), co)
	b, err := os.ReadFile(filepath.Join(co, p))
	require.NoError(t, err)
	return string(b)
}

// Two replicas (two reconcilers, two clones) on one fabric. Replica A read
// NetBox; before A pushes, the VPC changes and replica B pushes the newer
// view. A's push finds the fabric's files moved since its snapshot: it
// reads NetBox again instead of landing its older view on B's commit.
func TestMovedBranchIsReadAgainNeverOverwritten(t *testing.T) {
	e := newEvEnv(t, "moved", 2)
	ctx := context.Background()
	_, err := e.rec.SyncFabric(ctx, e.fabric)
	require.NoError(t, err)
	a, b := e.recWith(t, e.nb), e.recWith(t, e.nb)
	path := e.dir + "/managed/vpcs/vpc-00.yaml"

	var fenced int
	var newer FabricResult
	fence := func(context.Context) error {
		fenced++
		if fenced > 1 {
			return nil
		}
		require.NoError(t, e.nb.Do(ctx, http.MethodPatch, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, e.vpcs["vpc-00"]),
			map[string]any{"labels": map[string]any{"edit": "newer"}}, nil))
		var err error
		newer, err = b.SyncFabric(ctx, e.fabric) // the test's ctx: B has no fence
		require.NoError(t, err)
		require.True(t, newer.Committed)
		return nil
	}
	require.NoError(t, e.nb.Do(ctx, http.MethodPatch, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, e.vpcs["vpc-00"]),
		map[string]any{"labels": map[string]any{"edit": "older"}}, nil))
	res, err := a.SyncFabric(WithFence(ctx, fence), e.fabric)
	require.NoError(t, err)
	// the fence ran at A's first push (refused as moved) and before its
	// second run's write-back; that run had nothing to push (no push fence):
	// B's commit already holds NetBox's view
	require.Equal(t, 2, fenced)
	require.False(t, res.Committed)
	require.Equal(t, newer.Commit, res.Commit)
	require.Contains(t, e.read(t, path), "edit: newer")

	// A fence that refuses (a lost lease) stops the push.
	require.NoError(t, e.nb.Do(ctx, http.MethodPatch, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, e.vpcs["vpc-00"]),
		map[string]any{"labels": map[string]any{"edit": "fenced"}}, nil))
	lost := errors.New("lease lost")
	_, err = a.SyncFabric(WithFence(ctx, func(context.Context) error { return lost }), e.fabric)
	require.ErrorIs(t, err, gitops.ErrFenced)
	require.ErrorIs(t, err, lost)
	require.Contains(t, e.read(t, path), "edit: newer")
}
