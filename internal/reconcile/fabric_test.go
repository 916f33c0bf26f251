package reconcile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/panics"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
)

func TestMain(m *testing.M) { os.Exit(netboxenv.Main(m)) }

type env struct {
	nb  *netbox.Client
	srv *gitenv.Server
	url string
	rec *Reconciler
}

func setup(t *testing.T, repo string) env {
	t.Helper()
	nbEnv := netboxenv.Get(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	nb, err := netbox.New(netbox.Options{URL: nbEnv.URL, Token: nbEnv.Token})
	require.NoError(t, err)
	srv := gitenv.Start(t)
	w, err := gitops.New(gitops.Options{WorkDir: t.TempDir(),
		Access: gitAccess(t, srv)}, logger)
	require.NoError(t, err)
	return env{nb: nb, srv: srv, url: srv.NewRepo(t, repo, "main"), rec: New(nb, w, Defaults{}, logger)}
}

func (e env) files(t *testing.T, dir string) []string {
	t.Helper()
	co := filepath.Join(t.TempDir(), "co")
	gitenv.Git(t, "", "clone", "-q", e.srv.AuthURL(e.url), co)
	out := gitenv.Git(t, co, "ls-files", dir)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// The sample fabric through real NetBox into a real Git remote; then no-op,
// an invalid object next to a valid one, and a delete.
func TestSyncFabric(t *testing.T) {
	e := setup(t, "sample")
	ctx := context.Background()
	id, err := fabric.EnsureFabric(ctx, e.nb, "sync-test", map[string]any{
		"git_repository_url": e.url, "git_branch": "main", "gitops_directory": "/sync-test/"})
	require.NoError(t, err)
	objs := fabric.Generate(fabric.SampleOptions())
	_, err = fabric.Load(ctx, e.nb, id, objs)
	require.NoError(t, err)

	res, err := e.rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	require.Empty(t, res.Reasons())
	require.True(t, res.Committed)
	require.Equal(t, len(objs), res.Objects)
	require.Len(t, e.files(t, "sync-test/managed"), len(objs))
	require.Equal(t, []string{"sync-test/.hnp/manifest.yaml"}, e.files(t, "sync-test/.hnp"))

	again, err := e.rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	require.False(t, again.Committed, "nothing changed in NetBox: no commit")
	require.Equal(t, res.Commit, again.Commit)

	var bad, good netbox.Object
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+"vpcs/", map[string]any{"fabric": id, "name": "vpc-toolong1",
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.9.0.0/31", "gateway": "10.9.0.1", "vlan": 1900}}}}, &bad))
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+"vpcs/", map[string]any{"fabric": id, "name": "vpc-9",
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.9.1.0/24", "gateway": "10.9.1.1", "vlan": 1901}}}}, &good))
	res, err = e.rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	require.True(t, res.Committed)
	reasons := strings.Join(res.Reasons(), "\n")
	require.Contains(t, reasons, "VPC vpc-toolong1")
	require.Contains(t, reasons, "/31")
	files := e.files(t, "sync-test/managed/vpcs")
	require.Contains(t, files, "sync-test/managed/vpcs/vpc-9.yaml")
	require.NotContains(t, files, "sync-test/managed/vpcs/vpc-toolong1.yaml")

	require.NoError(t, e.nb.Do(ctx, http.MethodDelete, fmt.Sprintf("%svpcs/%d/", netbox.PluginPath, good.ID), nil, nil))
	res, err = e.rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	require.True(t, res.Committed)
	require.NotContains(t, e.files(t, "sync-test/managed/vpcs"), "sync-test/managed/vpcs/vpc-9.yaml")
}

func TestFabricWithoutRepository(t *testing.T) {
	e := setup(t, "none")
	id, err := fabric.EnsureFabric(context.Background(), e.nb, "no-repo", nil)
	require.NoError(t, err)
	_, err = e.rec.SyncFabric(context.Background(), id)
	require.ErrorIs(t, err, ErrFabricConfig, "a configuration problem, never success")
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	require.ErrorIs(t, ce.Cause, ErrNoRepository)
	require.Equal(t, "it has no Git repository: set its git_repository (or git_repository_url) in NetBox, or HNP_GIT_DEFAULT_URL", ce.Reason)
}

// An object waiting for one it refers to lands once that one appears.
func TestWaitingReferenceLandsWhenTheMissingObjectAppears(t *testing.T) {
	e := setup(t, "waiting")
	ctx := context.Background()
	id, err := fabric.EnsureFabric(ctx, e.nb, "waiting-test", map[string]any{
		"git_repository_url": e.url, "git_branch": "main", "gitops_directory": "/w/"})
	require.NoError(t, err)
	vpc := func(name string, n int) {
		require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+"vpcs/", map[string]any{"fabric": id, "name": name,
			"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": fmt.Sprintf("10.3.%d.0/24", n), "vlan": 1300 + n}}}}, nil))
	}
	vpc("vpc-a", 1)
	require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+"vpc-peerings/", map[string]any{"fabric": id, "name": "vpc-a--vpc-b",
		"spec": map[string]any{"permit": []any{map[string]any{"vpc-a": map[string]any{}, "vpc-b": map[string]any{}}}}}, nil))
	res, err := e.rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	require.Contains(t, strings.Join(res.Reasons(), "\n"), "vpc-b")
	require.NotContains(t, e.files(t, "w/managed"), "w/managed/vpcpeerings/vpc-a--vpc-b.yaml")

	vpc("vpc-b", 2)
	res, err = e.rec.SyncFabric(ctx, id)
	require.NoError(t, err)
	require.Empty(t, res.Reasons())
	require.Contains(t, e.files(t, "w/managed"), "w/managed/vpcpeerings/vpc-a--vpc-b.yaml")
}

// A panic while validating or rendering one object fails the run as an
// error; it does not take the process down.
func TestParallelPanicIsAnError(t *testing.T) {
	err := parallel(100, func(i int) {
		if i == 42 {
			panic("bad object")
		}
	})
	require.ErrorIs(t, err, panics.ErrPanic)
	require.ErrorContains(t, err, "reconcile.parallel: bad object")
	require.NoError(t, parallel(3, func(int) {}))
}
