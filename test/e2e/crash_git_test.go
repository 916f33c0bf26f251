package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// kill -9 of the sidecar at random moments while NetBox changes stream in,
// several cycles: in the end Git equals NetBox and no commit is empty.
// Webhooks sent while the sidecar is down are lost (NetBox does not retry);
// the reconcile at start-up heals them.
func TestKill9DuringReconcileLosesNothing(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "crash", "HNP_RECONCILE_INTERVAL", "1h", "HNP_QUEUE_LEASE", "1s", "HNP_QUEUE_COALESCE_WINDOW", "50ms")
	addr := freeAddr(t)
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-crash",
		"git_repository_url": repoURL, "git_branch": "main", "gitops_directory": "/crash/"})
	s := startSidecarAt(t, sc, addr)
	runBootstrap(t, env, env.Token, s.URL, secret)

	created := 0
	for cycle := range 4 {
		for range 6 {
			admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": fab["id"], "name": fmt.Sprintf("vpc-%d", created),
				"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{
					"subnet": fmt.Sprintf("10.5.%d.0/24", created), "vlan": 1500 + created}}}})
			created++
		}
		time.Sleep(time.Duration(rand.IntN(800)) * time.Millisecond)
		s.Kill()
		t.Logf("cycle %d: killed after %d VPCs", cycle, created)
		s = startSidecarAt(t, sc, addr)
	}
	start := time.Now()
	waitGitEqualsNetBox(t, s, srv.Dir("crash"), "crash", created)

	commits := strings.Fields(gitLog(t, srv, "crash", "%H"))
	for _, c := range commits[:len(commits)-1] { // every commit but the root changes the tree
		err := exec.Command("git", "-C", srv.Dir("crash"), "diff-tree", "--quiet", c+"^", c).Run()
		require.Error(t, err, "commit %s changes nothing", c)
	}
	t.Logf("%d VPCs over 4 kill -9 cycles: Git == NetBox %s after the last restart, %d commits, none empty",
		created, time.Since(start).Round(time.Millisecond), len(commits))
}
