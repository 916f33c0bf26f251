package reconcile

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// gitAccess allows the test server's host over http, with its
// credentials.
func gitAccess(t *testing.T, srv *gitenv.Server) *gitaccess.Policy {
	t.Helper()
	p, err := gitaccess.New(gitaccess.Options{DefaultURL: srv.URL + "/default.git", AllowHTTP: true,
		Default: gitaccess.Credentials{Username: srv.User, Token: srv.Password}})
	require.NoError(t, err)
	return p
}

// A fabric's Git target is its own data: a URL the policy refuses (a host
// not allowed, a scheme other than https/ssh) and a repository the remote does not have are
// configuration problems of that fabric, told where its owner looks; the
// refused host receives no request, the breaker of the host stays closed and the other fabrics there keep
// pushing.
func TestGitTargetsAreTheFabricsData(t *testing.T) {
	e := setup(t, "shared")
	ctx := context.Background()
	rdb := redisenv.Start(t).Client(t)
	st, err := state.New(rdb, state.Options{Prefix: "t"}, prometheus.NewRegistry())
	require.NoError(t, err)
	probs, err := problems.New(rdb, "t", prometheus.NewRegistry())
	require.NoError(t, err)
	breakers, err := breaker.NewSet(nil, prometheus.NewRegistry(), breaker.DefaultOptions())
	require.NoError(t, err)
	access := gitAccess(t, e.srv)
	w, err := gitops.New(gitops.Options{WorkDir: t.TempDir(), Access: access, Guard: breakers.Guard(breaker.Git)}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	rec := New(e.nb, w, Defaults{Access: access}, slog.New(slog.DiscardHandler), WithStates(st), WithWriteBack(e.nb), WithProblems(probs))

	var mu sync.Mutex
	var got []string
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		http.NotFound(w, r)
	}))
	defer evil.Close()
	for _, tc := range []struct{ name, url, want string }{
		{"to-evil", evil.URL + "/x.git", "its Git URL " + evil.URL + "/x.git may not be used: it is not in HNP_GIT_ALLOWED_URLS (add its host"},
		// NetBox's URL fields take http(s) and ftp(s) only: file:// is
		// refused by gitops' own tests (TestLocalRepositoriesAreRefused).
		{"to-ftp", "ftp://127.0.0.1/x.git", `its Git URL ftp://127.0.0.1/x.git may not be used: scheme "ftp" is not allowed`},
		{"to-missing", e.srv.URL + "/missing.git", "its Git repository " + e.srv.URL + "/missing.git does not exist"},
	} {
		id, err := fabric.EnsureFabric(ctx, e.nb, tc.name, map[string]any{"git_repository_url": tc.url, "git_branch": "main", "gitops_directory": "/d/"})
		require.NoError(t, err, tc.name)
		var vpc netbox.Object
		require.NoError(t, e.nb.Do(ctx, http.MethodPost, netbox.PluginPath+"vpcs/", map[string]any{"fabric": id, "name": "vpc-" + tc.name,
			"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.7.1.0/24", "vlan": 1701}}}}, &vpc))
		for range 6 { // more than HNP_BREAKER_FAILURES
			_, err = rec.SyncFabric(ctx, id)
			require.ErrorIs(t, err, ErrFabricConfig, tc.name)
			require.Contains(t, err.Error(), tc.want)
		}
		t.Logf("%s: the user sees: %s", tc.name, reasonOf(err))
		require.Contains(t, getVPC(t, e.nb, vpc.ID).SyncError, tc.want)
		f, err := e.nb.GetFabric(ctx, id)
		require.NoError(t, err)
		require.Equal(t, netbox.SyncStatusError, f.SyncStatus)
		p, ok, err := probs.Get(ctx, id)
		require.NoError(t, err)
		require.True(t, ok, "health lists the fabric")
		require.Contains(t, p.Reason, tc.want)
	}
	require.Empty(t, got, "the host not allowed received requests")
	require.Equal(t, breaker.Closed, breakers.Get(breaker.Git, e.srv.URL).State())

	id, err := fabric.EnsureFabric(ctx, e.nb, "same-host", map[string]any{"git_repository_url": e.url, "git_branch": "main", "gitops_directory": "/ok/"})
	require.NoError(t, err)
	_, err = fabric.Load(ctx, e.nb, id, fabric.Generate(fabric.SampleOptions()))
	require.NoError(t, err)
	res, err := rec.SyncFabric(ctx, id)
	require.NoError(t, err, "another fabric on the same host keeps pushing")
	require.True(t, res.Committed)
}
