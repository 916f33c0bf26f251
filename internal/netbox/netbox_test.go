package netbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
	"github.com/githedgehog/hnp-sidecar/webhooks"
)

func TestMain(m *testing.M) { os.Exit(netboxenv.Main(m)) }

func TestAuthHeader(t *testing.T) {
	for _, tt := range []struct{ token, want string }{
		{"0123456789abcdef0123456789abcdef01234567", "Token 0123456789abcdef0123456789abcdef01234567"},
		{"nbt_d0EWZlwUTE3n.cGxsqqn6mSHyljh39Po1HTVMoaJm9kYwZpkOQrhg", "Bearer nbt_d0EWZlwUTE3n.cGxsqqn6mSHyljh39Po1HTVMoaJm9kYwZpkOQrhg"},
		{"", ""}, {"short", ""}, {"nbt_nodot", ""}, {"Token 0123", ""},
	} {
		got, err := AuthHeader(tt.token)
		if tt.want == "" {
			require.ErrorIs(t, err, ErrBadToken, tt.token)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
	}
}

func TestInTestedRange(t *testing.T) {
	for v, want := range map[string]bool{"4.7.3": true, "v4.0.0": true, "4.5.0-beta1": true, "4.8.0": false,
		"3.7.10": false, "5.0": false, "4.x": false, "": false, "4": false} {
		require.Equal(t, want, InTestedRange(v), v)
	}
}

func client(t *testing.T, env netboxenv.Env, pageSize int) *Client {
	t.Helper()
	c, err := New(Options{URL: env.URL, Token: env.Token, PageSize: pageSize})
	require.NoError(t, err)
	return c
}

func TestPluginReadsAgainstRealNetBox(t *testing.T) {
	env := netboxenv.Get(t)
	c := client(t, env, 4)
	vpcKind, _ := kind.Named("VPC")
	ctx := context.Background()
	v, err := c.Version(ctx)
	require.NoError(t, err)
	require.True(t, InTestedRange(v), v)

	repo := newGitRepository(t, c, "fabric-repo", "http://127.0.0.1/fabric.git")
	var a, b Fabric
	watch := []string{"VPC"} // REST writes of a fabric need a non-empty watch_crd_types
	require.NoError(t, c.Do(ctx, http.MethodPost, PluginPath+"fabrics/",
		map[string]any{"name": "fab-a", "git_repository": repo.ID, "gitops_directory": "/a/", "watch_crd_types": watch}, &a))
	require.NoError(t, c.Do(ctx, http.MethodPost, PluginPath+"fabrics/", map[string]any{"name": "fab-b", "watch_crd_types": watch}, &b))
	ids := map[int64]bool{}
	for i := range 11 {
		for _, f := range []Fabric{a, b} {
			if f.ID == b.ID && i >= 3 {
				continue
			}
			var o Object
			require.NoError(t, c.Do(ctx, http.MethodPost, PluginPath+"vpcs/", map[string]any{"fabric": f.ID,
				"name": fmt.Sprintf("vpc-%d", i), "spec": map[string]any{"subnets": map[string]any{}}}, &o))
			if f.ID == a.ID {
				ids[o.ID] = true
			}
		}
	}

	got, err := c.GetFabric(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, "fab-a", got.Name)
	require.Equal(t, Ref(repo.ID), got.GitRepository)
	require.Equal(t, "/a/", got.GitopsDirectory)
	r, err := c.GetGitRepository(ctx, repo.ID)
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1/fabric.git", r.URL, "the Git URL, not the API link the plugin serves as url")
	require.Equal(t, "main", r.DefaultBranch)
	restricted, err := New(Options{URL: env.URL, Token: env.TokenRestricted})
	require.NoError(t, err)
	_, err = restricted.GetGitRepository(ctx, repo.ID)
	require.ErrorIs(t, err, ErrNotFound, "a non-superuser sees only the repositories it created")

	vpcs, err := c.ListObjects(ctx, vpcKind, a.ID) // pages of 4 over 14 VPCs
	require.NoError(t, err)
	require.Len(t, vpcs, 11)
	for _, o := range vpcs {
		require.True(t, ids[o.ID])
		require.Equal(t, Ref(a.ID), o.Fabric)
		require.Equal(t, "default", o.Namespace)
	}
	fabrics, err := c.ListFabrics(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(fabrics), 2)

	one, err := c.GetObject(ctx, vpcKind, vpcs[0].ID)
	require.NoError(t, err)
	require.Equal(t, vpcs[0].Name, one.Name)
	require.NoError(t, c.Do(ctx, http.MethodDelete, fmt.Sprintf("%svpcs/%d/", PluginPath, one.ID), nil, nil))
	_, err = c.GetObject(ctx, vpcKind, one.ID)
	require.ErrorIs(t, err, ErrNotFound, "a deleted object reads as not found")
}

func TestBootstrapIsIdempotent(t *testing.T) {
	env := netboxenv.Get(t)
	c := client(t, env, 0)
	defs, err := webhooks.Load()
	require.NoError(t, err)
	defs.Webhook.Name, defs.EventRules[0].Name = "bootstrap-test", "bootstrap-test rule"
	ctx := context.Background()
	first, err := c.Bootstrap(ctx, defs, "http://127.0.0.1:1", "secret-one-0123456789")
	require.NoError(t, err)
	require.Contains(t, first[0], ": created")
	require.Contains(t, first[1], ": created")
	again, err := c.Bootstrap(ctx, defs, "http://127.0.0.1:1", "secret-one-0123456789")
	require.NoError(t, err)
	require.Contains(t, again[0], ": unchanged")
	require.Contains(t, again[1], ": unchanged")
	rotated, err := c.Bootstrap(ctx, defs, "http://127.0.0.1:2", "secret-two-0123456789")
	require.NoError(t, err)
	require.Contains(t, rotated[0], ": updated")
	require.Contains(t, rotated[1], ": unchanged")
}

// newGitRepository creates a repository as the plugin takes it (with
// credentials) and finds it by listing: the plugin's answer has no id.
func newGitRepository(t *testing.T, c *Client, name, gitURL string) GitRepository {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, c.Do(ctx, http.MethodPost, PluginPath+GitReposEndpoint, map[string]any{"name": name, "url": gitURL,
		"default_branch": "main", "authentication_type": "token", "credentials": map[string]any{"token": "t"}}, nil))
	all, err := list[GitRepository](ctx, c, PluginPath+GitReposEndpoint)
	require.NoError(t, err)
	for _, r := range all {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("repository %s not listed", name)
	return GitRepository{}
}

// Older plugin builds serve Git repositories at git-repositories/ with the
// Git URL as url; the newer at git-repos-api/ with the Git URL under
// repository_info. A 404 of both is ErrNotFound.
func TestGetGitRepositoryEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name     string
		routes   map[string]string
		want     string
		notFound bool
	}{
		{"current", map[string]string{"git-repos-api/5/": `{"id":5,"url":"http://nb/api/plugins/hedgehog/git-repos-api/5/","default_branch":"dev","repository_info":{"basic_info":{"url":"https://git.example/a.git"}}}`}, "https://git.example/a.git", false},
		{"legacy", map[string]string{"git-repositories/5/": `{"id":5,"url":"https://git.example/b.git","default_branch":"dev"}`}, "https://git.example/b.git", false},
		{"api link only", map[string]string{"git-repos-api/5/": `{"id":5,"url":"http://nb/api/plugins/hedgehog/git-repos-api/5/"}`}, "", false},
		{"neither", map[string]string{}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, ok := tc.routes[strings.TrimPrefix(r.URL.Path, PluginPath)]
				if !ok {
					http.NotFound(w, r)
					return
				}
				_, _ = io.WriteString(w, body)
			}))
			defer srv.Close()
			c, err := New(Options{URL: srv.URL, Token: "0123456789abcdef0123456789abcdef01234567"})
			require.NoError(t, err)
			r, err := c.GetGitRepository(context.Background(), 5)
			if tc.notFound {
				require.ErrorIs(t, err, ErrNotFound)
				require.Contains(t, err.Error(), GitReposEndpoint, "the error names the current endpoint")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, r.URL)
		})
	}
}
