package argocd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeServer is argocd-server's REST API as far as the ownership checks
// use it: one Application, one project, the calls made.
type fakeServer struct {
	mu      sync.Mutex
	app     map[string]any // nil: absent
	project map[string]any
	calls   []string
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	body, _ := io.ReadAll(r.Body)
	reply := func(code int, v any) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/applications/"):
		if f.app == nil {
			reply(403, map[string]any{"message": "permission denied"})
			return
		}
		reply(200, f.app)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/applications":
		if f.app != nil {
			reply(400, map[string]any{"message": "existing application spec is different; use upsert flag to force update"})
			return
		}
		_ = json.Unmarshal(body, &f.app)
		reply(200, f.app)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v1/applications/"):
		_ = json.Unmarshal(body, &f.app)
		reply(200, f.app)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/projects/"):
		if f.project == nil {
			reply(404, map[string]any{"message": "not found"})
			return
		}
		reply(200, f.project)
	case (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.HasPrefix(r.URL.Path, "/api/v1/projects"):
		var in struct {
			Project map[string]any `json:"project"`
		}
		_ = json.Unmarshal(body, &in)
		f.project = in.Project
		reply(200, f.project)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/repositories":
		reply(400, map[string]any{"message": `existing repository spec is different; use upsert flag to force update; difference in keys "Password"`})
	default:
		reply(404, map[string]any{"message": "no route"})
	}
}

func (f *fakeServer) writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

func newFake(t *testing.T) (*fakeServer, *REST) {
	f := &fakeServer{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := NewREST(srv.URL, "tok", nil)
	require.NoError(t, err)
	return f, c
}

func testApp() App {
	return App{Name: "hnp-7-fab", Namespace: "argocd", Project: DefaultProject, RepoURL: "https://git.example.com/fab.git",
		Revision: "main", Path: "fab/managed", DestServer: "https://kubernetes.default.svc", DestNamespace: "default",
		Fabric: "fab", FabricID: 7}
}

// The REST driver's handling of what exists: created when absent, updated
// only when labelled as this fabric's, never otherwise.
func TestRESTOwnership(t *testing.T) {
	ctx := context.Background()
	foreign := map[string]any{"metadata": map[string]any{"name": "hnp-7-fab", "namespace": "argocd", "resourceVersion": "5"},
		"spec": map[string]any{"project": "default", "source": map[string]any{"repoURL": "https://other/x.git"}}}
	cases := []struct {
		name     string
		existing map[string]any
		err      error
		writes   []string
	}{
		{"absent: created", nil, nil, []string{"POST /api/v1/applications?"}},
		{"foreign: untouched", foreign, ErrForeignApplication, nil},
		{"another fabric's: untouched", map[string]any{"metadata": map[string]any{"labels": map[string]any{
			LabelManagedBy: ManagedBy, LabelFabricID: "8"}}, "spec": map[string]any{}}, ErrForeignApplication, nil},
		{"ours: updated", map[string]any{"metadata": map[string]any{"resourceVersion": "9", "labels": map[string]any{
			LabelManagedBy: ManagedBy, LabelFabricID: "7"}}, "spec": map[string]any{}}, nil,
			[]string{"PUT /api/v1/applications/hnp-7-fab?appNamespace=argocd&validate=true"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, rest := newFake(t)
			f.app = c.existing
			err := rest.EnsureApplication(ctx, testApp())
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				require.True(t, IsForeign(err))
				require.Contains(t, err.Error(), "left untouched")
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, c.writes, f.writes())
			for _, call := range f.calls {
				require.NotContains(t, call, "upsert")
				require.NotContains(t, call, "validate=false")
			}
		})
	}
	// Unchanged: no write at all.
	f, rest := newFake(t)
	require.NoError(t, rest.EnsureApplication(ctx, testApp()))
	require.NoError(t, rest.EnsureApplication(ctx, testApp()))
	require.Len(t, f.writes(), 1)
}

func TestRESTProject(t *testing.T) {
	ctx := context.Background()
	p := Project{Name: DefaultProject, Namespace: "argocd", SourceRepos: []string{"https://git.example.com/**"},
		Destinations: []Destination{{"https://kubernetes.default.svc", "default"}}}
	f, rest := newFake(t)
	require.NoError(t, rest.EnsureProject(ctx, p))
	require.NoError(t, rest.EnsureProject(ctx, p)) // unchanged: no second write
	require.Equal(t, []string{"POST /api/v1/projects?"}, f.writes())
	spec := f.project["spec"].(map[string]any)
	require.Equal(t, []any{}, spec["clusterResourceWhitelist"])
	require.Len(t, spec["namespaceResourceWhitelist"], len(HedgehogGroups))

	f, rest = newFake(t)
	f.project = map[string]any{"metadata": map[string]any{"name": DefaultProject}, "spec": map[string]any{"sourceRepos": []any{"*"}}}
	require.ErrorIs(t, rest.EnsureProject(ctx, p), ErrForeignProject)
	require.Empty(t, f.writes())
}

func TestRESTRepositoryNotOverwritten(t *testing.T) {
	_, rest := newFake(t)
	err := rest.EnsureRepository(context.Background(), "argocd", Repository{URL: "https://bot:pw@git.example.com/fab.git", Password: "x"})
	require.ErrorIs(t, err, ErrForeignRepository)
	require.NotContains(t, err.Error(), "pw@")
}
