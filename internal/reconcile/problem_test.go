package reconcile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// A fabric linked to a Git repository the sidecar's NetBox user cannot see
// (a non-superuser sees only the repositories it created) is a
// configuration problem, never "fabric gone" and never success: the run
// fails with the reason, each object is draft with it as sync_error, the
// fabric shows error with one journal entry, health lists it. Once fixed,
// the fabric syncs and the problem ends with a journal entry.
func TestUnreadableRepositoryIsAConfigProblem(t *testing.T) {
	e := setup(t, "unreadable")
	nbEnv := netboxenv.Get(t)
	ctx := context.Background()
	sidecarNB, err := netbox.New(netbox.Options{URL: nbEnv.URL, Token: nbEnv.TokenRestricted})
	require.NoError(t, err)
	rdb := redisenv.Start(t).Client(t)
	st, err := state.New(rdb, state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	probs, err := problems.New(rdb, "t", prometheus.NewRegistry())
	require.NoError(t, err)
	w, err := gitops.New(gitops.Options{WorkDir: t.TempDir(),
		Access: gitAccess(t, e.srv)}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	rec := New(sidecarNB, w, Defaults{}, slog.New(slog.NewTextHandler(io.Discard, nil)), WithStates(st),
		WithWriteBack(sidecarNB), WithProblems(probs))

	// The admin (a superuser) creates the repository: the restricted
	// sidecar user did not, so it cannot see it.
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+netbox.GitReposEndpoint, map[string]any{
		"name": "admins-repo", "url": e.url, "authentication_type": "token", "credentials": map[string]any{"token": "t"}}, nil))
	var repos struct {
		Results []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"results"`
	}
	require.NoError(t, e.nb.Do(ctx, http.MethodGet, netbox.PluginPath+netbox.GitReposEndpoint+"?limit=1000", nil, &repos))
	var repoID int64
	for _, r := range repos.Results {
		if r.Name == "admins-repo" {
			repoID = r.ID
		}
	}
	require.NotZero(t, repoID)
	id, err := fabric.EnsureFabric(ctx, e.nb, "unreadable-repo", map[string]any{"git_repository": repoID, "gitops_directory": "/u/"})
	require.NoError(t, err)
	var vpc netbox.Object
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+"vpcs/", map[string]any{"fabric": id, "name": "vpc-u",
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.5.9.0/24", "vlan": 1509}}}}, &vpc))

	want := fmt.Sprintf("its Git repository (id %d) cannot be read: NetBox answers 404 to the sidecar's user on git-repos-api/%d/", repoID, repoID)
	for range 2 { // the second run tells nobody again
		_, err = rec.SyncFabric(ctx, id)
		require.ErrorIs(t, err, ErrFabricConfig)
		require.NotErrorIs(t, err, ErrFabricGone)
		require.NotErrorIs(t, err, netbox.ErrNotFound, "a repository's 404 never reads as the fabric's")
		require.Contains(t, err.Error(), want)
	}
	t.Logf("reason shown: %s", reasonOf(err))
	r, err := st.Get(ctx, state.Key{Fabric: id, Kind: "VPC", Namespace: "default", Name: "vpc-u"})
	require.NoError(t, err)
	require.Equal(t, state.Draft, r.State)
	require.Contains(t, r.Reason, want)
	require.Contains(t, getVPC(t, e.nb, vpc.ID).SyncError, want)
	f, err := e.nb.GetFabric(ctx, id)
	require.NoError(t, err)
	require.Equal(t, netbox.SyncStatusError, f.SyncStatus)
	fj := journalOf(t, e.nb, "hedgehogfabric", id)
	require.Equal(t, 1, strings.Count(fj, "hnp-sidecar: nothing of this fabric reaches Git: "+want), fj)
	require.NotContains(t, journal(t, e.nb, vpc.ID), "not in Git", "the reason is told on the fabric, not per object")
	hr := probs.Health(ctx)
	require.Equal(t, health.Degraded, hr.Status)
	require.Contains(t, hr.Error, "fabric unreadable-repo: "+want)
	require.Empty(t, e.files(t, "u"), "nothing written to Git")

	// Fixed in NetBox: the fabric names a URL instead.
	require.NoError(t, e.nb.PatchFabric(ctx, id, map[string]any{"git_repository": nil, "git_repository_url": e.url}))
	res, err := rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	require.True(t, res.Committed)
	require.Contains(t, e.files(t, "u/managed/vpcs"), "u/managed/vpcs/vpc-u.yaml")
	require.Empty(t, getVPC(t, e.nb, vpc.ID).SyncError)
	require.Equal(t, health.OK, probs.Health(ctx).Status)
	require.Contains(t, journalOf(t, e.nb, "hedgehogfabric", id), "hnp-sidecar: the fabric syncs again (in Git at commit "+res.Commit)
}
