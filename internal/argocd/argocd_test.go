package argocd

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func appJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

func TestStatus(t *testing.T) {
	cases := []struct {
		name              string
		obj               string
		applied, finished bool
	}{
		{"applied", `{"status":{"sync":{"status":"Synced","revision":"X"},"health":{"status":"Healthy"},
			"operationState":{"phase":"Succeeded","syncResult":{"revision":"X"}}}}`, true, true},
		{"older revision", `{"status":{"sync":{"status":"Synced","revision":"W"},"operationState":{"phase":"Succeeded","syncResult":{"revision":"W"}}}}`, false, false},
		{"running", `{"operation":{"sync":{"revision":"X"}},"status":{"sync":{"status":"OutOfSync","revision":"X"},"operationState":{"phase":"Running","syncResult":{"revision":"X"}}}}`, false, false},
		{"failed", `{"status":{"sync":{"status":"OutOfSync","revision":"X"},"operationState":{"phase":"Failed","message":"one or more objects failed to apply",
			"syncResult":{"revision":"X","resources":[{"kind":"VPC","namespace":"default","name":"v","status":"SyncFailed","message":"spec.x: forbidden"}]}}}}`, false, true},
		{"never synced", `{"status":{"sync":{"status":"OutOfSync"}}}`, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := statusOf(appJSON(t, c.obj))
			require.Equal(t, c.applied, s.Applied("X"))
			require.Equal(t, c.finished, s.Finished("X"))
		})
	}
	s := statusOf(appJSON(t, cases[3].obj))
	require.Equal(t, []Resource{{Kind: "VPC", Namespace: "default", Name: "v", Status: "SyncFailed", Message: "spec.x: forbidden"}}, s.Resources)
}

func TestApplicationObject(t *testing.T) {
	a := App{Name: "hedgehog-fab", Namespace: "argocd", Project: "default", RepoURL: "http://git/r.git", Revision: "main",
		Path: "fab/managed", DestServer: "https://kubernetes.default.svc", DestNamespace: "default", Automated: true, Prune: true, Fabric: "fab 1"}
	o := a.Object()
	require.Equal(t, "fab-1", get(o, "metadata", "labels").(map[string]any)["hnp.githedgehog.com/fabric"])
	require.Equal(t, map[string]any{"prune": true, "selfHeal": false}, get(o, "spec", "syncPolicy", "automated"))
	require.Equal(t, map[string]any{"recurse": true}, get(o, "spec", "source", "directory"))
	a.Automated = false
	require.Nil(t, get(a.Object(), "spec", "syncPolicy", "automated"))
}

// argocd-server's answers, as the REST driver must read them.
func TestRESTErrors(t *testing.T) {
	var status int
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		require.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c, err := NewREST(srv.URL, "tok", nil)
	require.NoError(t, err)
	ctx := context.Background()

	status, body = 400, `{"error":"another operation is already in progress","code":9,"message":"another operation is already in progress"}`
	require.ErrorIs(t, c.Sync(ctx, "argocd", "app", "X", false), ErrBusy)
	status, body = 403, `{"error":"permission denied","code":7,"message":"permission denied"}`
	_, err = c.Status(ctx, "argocd", "app")
	require.ErrorIs(t, err, ErrNotFound)
	status, body = 500, `{"message":"boom"}`
	err = c.Sync(ctx, "argocd", "app", "X", false)
	require.ErrorContains(t, err, "HTTP 500: boom")
	require.NotErrorIs(t, err, ErrBusy)
	status, body = 200, `{"status":{"sync":{"status":"Synced","revision":"X"},"operationState":{"phase":"Succeeded","syncResult":{"revision":"X"}}}}`
	st, err := c.Status(ctx, "argocd", "app")
	require.NoError(t, err)
	require.True(t, st.Applied("X"))
	_, err = NewREST("argocd:443", "t", nil)
	require.Error(t, err)
}
