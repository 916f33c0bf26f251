package e2e

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// reconcileSetup starts a NetBox (shared by the package), a Git remote
// with an empty repository repo, and a Redis, and returns the sidecar
// environment that reconciles into that remote, with extra as name/value
// pairs on top.
func reconcileSetup(t *testing.T, repo string, extra ...string) (netboxenv.Env, *gitenv.Server, string, map[string]string) {
	t.Helper()
	env := netboxenv.Get(t)
	srv := gitenv.Start(t)
	repoURL := srv.NewRepo(t, repo, "main")
	sc := baseEnv(redisenv.Start(t).URL())
	for k, v := range map[string]string{
		"HNP_NETBOX_URL": env.URL, "HNP_NETBOX_TOKEN": env.Token, "HNP_GIT_WORKDIR": t.TempDir(),
		"HNP_GIT_USERNAME": srv.User, "HNP_GIT_TOKEN": srv.Password,
		// The local remote: its host is allowed and its credentials are
		// for it (HNP_GIT_USERNAME/TOKEN go only to the default URL's host).
		"HNP_GIT_DEFAULT_URL": repoURL, "HNP_GIT_ALLOW_HTTP": "true",
	} {
		sc[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		sc[extra[i]] = extra[i+1]
	}
	return env, srv, repoURL, sc
}

// remoteFile reads path at the tip of the remote branch ("" if absent).
func remoteFile(t *testing.T, srv *gitenv.Server, name, path string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", srv.Dir(name), "show", "main:"+path).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// The plan's first scenario through real parts: a fabric with a Git
// repository in NetBox, a VPC saved through NetBox's REST API, and the
// VPC's file on the remote branch; then an update and a delete.
func TestNetBoxChangeReachesGit(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "fabric", "HNP_QUEUE_COALESCE_WINDOW", "100ms")
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	admin := adminClient(t, env)

	repoID := admin.newGitRepository(t, "e2e-git", repoURL, "main")
	fab, _ := admin.newFabric(t,
		map[string]any{"name": "e2e-git-fabric", "git_repository": repoID, "gitops_directory": "/fab/"})
	fabricID := fab["id"]

	var latencies []time.Duration
	for i := range 5 {
		name := fmt.Sprintf("vpc-%d", i)
		start := time.Now()
		admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": fabricID, "name": name,
			"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{
				"subnet": fmt.Sprintf("10.7.%d.0/24", i), "gateway": fmt.Sprintf("10.7.%d.1", i), "vlan": 1700 + i}}}})
		path := "fab/managed/vpcs/" + name + ".yaml"
		require.Eventually(t, func() bool { return remoteFile(t, srv, "fabric", path) != "" }, 30*time.Second, 20*time.Millisecond,
			"%s never reached the remote\n%s", path, s.Logs)
		latencies = append(latencies, time.Since(start))
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	t.Logf("NetBox REST save → file on the remote branch: p50 %s (min %s, max %s, n=5)",
		latencies[2].Round(time.Millisecond), latencies[0].Round(time.Millisecond), latencies[4].Round(time.Millisecond))

	// The fabric shows the commit; its sync status is in its journal (the
	// July-2025 plugin's database refuses in_sync, its serializer synced).
	tip := strings.SplitN(gitLog(t, srv, "fabric", "%H"), "\n", 2)[0]
	require.Eventually(t, func() bool {
		f, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%sfabrics/%v/", plugin, fabricID), nil)
		return f["desired_state_commit"] == tip
	}, 30*time.Second, 50*time.Millisecond, "the fabric never showed commit %s\n%s", tip, s.Logs)
	f, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%sfabrics/%v/", plugin, fabricID), nil)
	t.Logf("fabric: sync_status=%v desired_state_commit=%v last_git_sync=%v drift_status=%v", f["sync_status"],
		f["desired_state_commit"], f["last_git_sync"], f["drift_status"])
	require.Eventually(t, func() bool { // written once the other fields are
		return strings.Contains(journalOf(t, admin, "hedgehogfabric", fabricID), "GitOps status of this fabric: sync_status=in_sync.")
	}, 30*time.Second, 100*time.Millisecond, "the fabric's sync status never reached its journal\n%s", s.Logs)

	file := remoteFile(t, srv, "fabric", "fab/managed/vpcs/vpc-0.yaml")
	require.Contains(t, file, "kind: VPC")
	require.Contains(t, file, "hnp.githedgehog.com/fabric: e2e-git-fabric")
	require.Contains(t, file, "vlan: 1700")
	msg := gitLog(t, srv, "fabric", "%an|%B")
	require.Contains(t, msg, env.AdminUser+"|", "the NetBox user is the author")
	require.Contains(t, msg, "NetBox-Object: netbox_hedgehog.vpc/")
	require.Contains(t, msg, "NetBox-User: "+env.AdminUser)
	require.Contains(t, msg, "NetBox-Request-Id: ")

	// An invalid VPC (12-character name, /31) is not committed; the fabric keeps syncing.
	admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": fabricID, "name": "vpc-toolong1",
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.8.0.0/31", "vlan": 1800}}}})
	s.waitLog(t, 20*time.Second, "object not written: invalid", "vpc-toolong1")
	require.Empty(t, remoteFile(t, srv, "fabric", "fab/managed/vpcs/vpc-toolong1.yaml"))

	vpcs, _ := admin.call(t, http.MethodGet, plugin+"vpcs/?limit=1000", nil)
	for _, r := range vpcs["results"].([]any) {
		o := r.(map[string]any)
		if o["name"] == "vpc-1" && o["fabric"] == fabricID {
			admin.call(t, http.MethodDelete, fmt.Sprintf("%svpcs/%v/", plugin, o["id"]), nil)
		}
	}
	require.Eventually(t, func() bool { return remoteFile(t, srv, "fabric", "fab/managed/vpcs/vpc-1.yaml") == "" },
		30*time.Second, 20*time.Millisecond, "deleted VPC's file stays\n%s", s.Logs)
	commits := strings.Count(gitLog(t, srv, "fabric", "%H"), "\n") + 1
	t.Logf("%d commits for 5 creates and 1 delete", commits)
	require.LessOrEqual(t, commits, 7, "at most: the fabric's manifest, five creates, one delete")
}

func gitLog(t *testing.T, srv *gitenv.Server, name, format string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", srv.Dir(name), "log", "main", "--format="+format).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// NetBox never delivers a webhook to this sidecar: the periodic full
// reconcile still brings the change to Git.
func TestPeriodicReconcileHealsLostWebhooks(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "healed", "HNP_RECONCILE_INTERVAL", "2s")
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-healed",
		"git_repository_url": repoURL, "git_branch": "main", "gitops_directory": "/healed/"})
	s := startSidecar(t, sc)                                                           // no bootstrap: NetBox's webhook does not point here
	s.waitLog(t, 20*time.Second, `"msg":"fabric reconciled"`, `"fabric":"e2e-healed"`) // the one at start
	admin.call(t, http.MethodPost, plugin+"switches/", map[string]any{"fabric": fab["id"], "name": "spine-01",
		"spec": map[string]any{"role": "spine"}})
	start := time.Now()
	require.Eventually(t, func() bool { return remoteFile(t, srv, "healed", "healed/managed/switches/spine-01.yaml") != "" },
		30*time.Second, 50*time.Millisecond, "periodic reconcile never wrote the switch\n%s", s.Logs)
	t.Logf("switch saved without a webhook reached Git after %s", time.Since(start).Round(time.Millisecond))
	require.Contains(t, gitLog(t, srv, "healed", "%s"), "Reconcile fabric e2e-healed")
}

// The re-sync API and `hnp-sidecar resync`: a fabric whose changes never
// reached the sidecar is brought into Git on request, with a job to follow.
func TestResyncOnRequest(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "resync", "HNP_RECONCILE_INTERVAL", "0")
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-resync",
		"git_repository_url": repoURL, "git_branch": "main", "gitops_directory": "/r/"})
	admin.call(t, http.MethodPost, plugin+"servers/", map[string]any{"fabric": fab["id"], "name": "server-01", "spec": map[string]any{"description": "server-01"}})
	s := startSidecar(t, sc) // no bootstrap, no periodic reconcile: only a request syncs

	sync := fmt.Sprintf("%s/api/v1/fabrics/%v/sync", s.URL, fab["id"])
	for _, tc := range []struct {
		url, token string
		want       int
	}{
		{sync, "", http.StatusUnauthorized},
		{sync, "wrong-token-0123456789", http.StatusUnauthorized},
		{s.URL + "/api/v1/fabrics/999999/sync", token, http.StatusNotFound},
		{s.URL + "/api/v1/fabrics/no-such-fabric/sync", token, http.StatusNotFound},
		{s.URL + "/api/v1/fabrics/0/sync", token, http.StatusNotFound},
		{fmt.Sprintf("%s/plugins/hedgehog/api/fabrics/%v/gitops/sync/", s.URL, fab["id"]), token, http.StatusAccepted},
	} {
		req, _ := http.NewRequest(http.MethodPost, tc.url, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		r, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = r.Body.Close()
		require.Equal(t, tc.want, r.StatusCode, tc.url)
	}

	// NetBox credentials: an API token NetBox accepts, or a NetBox session
	// with its CSRF token from the same origin (the plugin's button).
	pluginPath := fmt.Sprintf("%s/plugins/hedgehog/api/fabrics/%v/gitops/sync/", s.URL, fab["id"])
	session, csrf := netboxLogin(t, env)
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"netbox token", map[string]string{"Authorization": admin.auth}, http.StatusAccepted},
		{"bogus netbox token", map[string]string{"Authorization": "Token 0123456789abcdef0123456789abcdef01234567"}, http.StatusUnauthorized},
		{"session", map[string]string{"Cookie": "sessionid=" + session + "; csrftoken=" + csrf, "X-CSRFToken": csrf, "Origin": s.URL}, http.StatusAccepted},
		{"session without csrf header", map[string]string{"Cookie": "sessionid=" + session + "; csrftoken=" + csrf, "Origin": s.URL}, http.StatusUnauthorized},
		{"session from another origin", map[string]string{"Cookie": "sessionid=" + session + "; csrftoken=" + csrf, "X-CSRFToken": csrf, "Origin": "http://evil.example"}, http.StatusUnauthorized},
		{"forged session", map[string]string{"Cookie": "sessionid=forged; csrftoken=" + csrf, "X-CSRFToken": csrf, "Origin": s.URL}, http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest(http.MethodPost, pluginPath, nil)
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		r, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = r.Body.Close()
		require.Equal(t, tc.want, r.StatusCode, tc.name)
	}

	cmd := exec.Command(binary(t), "resync", "--fabric", "e2e-resync", "--timeout", "60s") // by name
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HNP_SIDECAR_URL=" + s.URL, "HNP_API_TOKEN=" + token}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s\n%s", out, s.Logs)
	require.Contains(t, string(out), "succeeded")
	require.Contains(t, string(out), "1 objects, 0 invalid; commit ")
	require.Contains(t, string(out), "[####################] 14/14", "the progress bar ends full")
	require.NotEmpty(t, remoteFile(t, srv, "resync", "r/managed/servers/server-01.yaml"))
}

// A VPC moved to another fabric leaves no stale file in the old one.
func TestMovedObjectLeavesNoStaleFile(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "moves", "HNP_RECONCILE_INTERVAL", "0")
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	admin := adminClient(t, env)
	fabric := func(name string) any {
		f, _ := admin.newFabric(t, map[string]any{"name": name,
			"git_repository_url": repoURL, "git_branch": "main", "gitops_directory": "/" + name + "/"})
		return f["id"]
	}
	a, b := fabric("e2e-move-a"), fabric("e2e-move-b")
	vpc, _ := admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": a, "name": "vpc-m",
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.6.0.0/24", "vlan": 1600}}}})
	inA, inB := "e2e-move-a/managed/vpcs/vpc-m.yaml", "e2e-move-b/managed/vpcs/vpc-m.yaml"
	require.Eventually(t, func() bool { return remoteFile(t, srv, "moves", inA) != "" }, 30*time.Second, 50*time.Millisecond)
	admin.call(t, http.MethodPatch, fmt.Sprintf("%svpcs/%v/", plugin, vpc["id"]), map[string]any{"fabric": b})
	require.Eventually(t, func() bool {
		return remoteFile(t, srv, "moves", inB) != "" && remoteFile(t, srv, "moves", inA) == ""
	}, 30*time.Second, 50*time.Millisecond, "the VPC did not move in Git\n%s", s.Logs)
}

// netboxLogin logs the admin into NetBox's UI and returns the session and
// CSRF cookies a browser would hold.
func netboxLogin(t *testing.T, env netboxenv.Env) (session, csrf string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}
	r, err := c.Get(env.URL + "/login/")
	require.NoError(t, err)
	_ = r.Body.Close()
	u, _ := url.Parse(env.URL)
	token := func(name string) string {
		for _, ck := range jar.Cookies(u) {
			if ck.Name == name {
				return ck.Value
			}
		}
		return ""
	}
	form := url.Values{"csrfmiddlewaretoken": {token("csrftoken")}, "username": {env.AdminUser}, "password": {env.AdminPassword}}
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/login/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", env.URL+"/login/")
	r, err = c.Do(req)
	require.NoError(t, err)
	_ = r.Body.Close()
	require.NotEmpty(t, token("sessionid"), "login to NetBox failed")
	return token("sessionid"), token("csrftoken")
}
