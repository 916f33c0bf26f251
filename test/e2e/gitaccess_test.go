package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An attacker who may edit a fabric in NetBox points its Git URL at a host
// of theirs. Before: that host received `Authorization: Basic
// <user>:<HNP_GIT_TOKEN>` on the first request. Now: it receives nothing,
// the re-sync fails with the reason, and the fabric's objects show it in
// NetBox.
func TestForeignGitHostReceivesNothing(t *testing.T) {
	env, _, _, sc := reconcileSetup(t, "foreign", "HNP_RECONCILE_INTERVAL", "0")
	var mu sync.Mutex
	var got []string
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" Authorization: "+r.Header.Get("Authorization"))
		mu.Unlock()
		http.NotFound(w, r)
	}))
	defer evil.Close()
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-foreign",
		"git_repository_url": evil.URL + "/loot.git", "git_branch": "main", "gitops_directory": "/f/"})
	server, _ := admin.call(t, http.MethodPost, plugin+"servers/", map[string]any{"fabric": fab["id"], "name": "server-01",
		"spec": map[string]any{"description": "server-01"}})
	s := startSidecar(t, sc)

	cmd := exec.Command(binary(t), "resync", "--fabric", "e2e-foreign", "--timeout", "60s")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HNP_SIDECAR_URL=" + s.URL, "HNP_API_TOKEN=" + token}
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	want := "its Git URL " + evil.URL + "/loot.git may not be used: it is not in HNP_GIT_ALLOWED_URLS"
	require.Contains(t, string(out), want, "%s\n%s", out, s.Logs)
	t.Logf("hnp-sidecar resync says:\n%s", out)
	require.Eventually(t, func() bool { // written back in the background
		obj, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%sservers/%v/", plugin, server["id"]), nil)
		return strings.Contains(fmt.Sprint(obj["sync_error"]), want)
	}, 30*time.Second, 200*time.Millisecond, "the server's sync_error in NetBox")
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, got, "the foreign host received requests")
}
