package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
)

// uiFabric creates a fabric the way NetBox's UI does: the plugin's add
// form, which has no watch_crd_types field, so the fabric keeps the blank
// default that makes every later REST write of it a 400. Returns its id.
func uiFabric(t *testing.T, env netboxenv.Env, admin nbClient, fields url.Values) any {
	t.Helper()
	session, csrf := netboxLogin(t, env)
	form := url.Values{"csrfmiddlewaretoken": {csrf}, "status": {"planned"}, "kubernetes_namespace": {"default"},
		"sync_interval": {"300"}, "sync_enabled": {"on"}, "watch_enabled": {"on"}}
	for k, v := range fields {
		form[k] = v
	}
	req, err := http.NewRequest(http.MethodPost, env.URL+"/plugins/hedgehog/fabrics/add/", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", env.URL+"/plugins/hedgehog/fabrics/add/")
	req.AddCookie(&http.Cookie{Name: "sessionid", Value: session})
	req.AddCookie(&http.Cookie{Name: "csrftoken", Value: csrf})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode, "the UI add form accepted the fabric")
	list, _ := admin.call(t, http.MethodGet, plugin+"fabrics/?limit=1000", nil)
	for _, r := range list["results"].([]any) {
		if f := r.(map[string]any); f["name"] == fields.Get("name") {
			require.Empty(t, f["watch_crd_types"], "a UI-made fabric has a blank watch_crd_types")
			return f["id"]
		}
	}
	t.Fatalf("fabric %s not made", fields.Get("name"))
	return nil
}

// A fabric made in the plugin's UI (blank watch_crd_types) refuses every
// REST write of it: its objects still reach Git, its status goes to its
// journal, and NetBox's refusals do not count as NetBox being down.
func TestUIMadeFabricStatusInItsJournal(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "uimade", "HNP_QUEUE_COALESCE_WINDOW", "100ms", "HNP_RECONCILE_INTERVAL", "0",
		"HNP_BREAKER_FAILURES", "2")
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	admin := adminClient(t, env)
	repoID := admin.newGitRepository(t, "e2e-uimade", repoURL, "main")
	fabricID := uiFabric(t, env, admin, url.Values{"name": {"e2e-ui-made"}, "git_repository": {fmt.Sprint(repoID)},
		"gitops_directory": {"/ui/"}})

	for i := range 3 {
		admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": fabricID, "name": fmt.Sprintf("vpc-ui%d", i),
			"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": fmt.Sprintf("10.12.%d.0/24", i), "vlan": 1200 + i}}}})
	}
	require.Eventually(t, func() bool {
		return remoteFile(t, srv, "uimade", "ui/managed/vpcs/vpc-ui2.yaml") != ""
	}, 30*time.Second, 50*time.Millisecond, "the UI-made fabric's objects never reached Git\n%s", s.Logs)
	tip := strings.SplitN(gitLog(t, srv, "uimade", "%H"), "\n", 2)[0]
	var journal string
	require.Eventually(t, func() bool {
		journal = journalOf(t, admin, "hedgehogfabric", fabricID)
		return strings.Contains(journal, "desired_state_commit="+tip)
	}, 30*time.Second, 100*time.Millisecond, "the fabric's status never reached its journal\n%s", s.Logs)
	t.Logf("fabric journal:\n%s", journal)
	require.Contains(t, journal, `NetBox refused to store it in the fabric's fields: HTTP 400: {"watch_crd_types":["This field cannot be blank."]}`)
	f, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%sfabrics/%v/", plugin, fabricID), nil)
	require.Empty(t, f["desired_state_commit"], "NetBox refuses the fabric's fields")
	vpcs, _ := admin.call(t, http.MethodGet, plugin+"vpcs/?limit=1000", nil)
	for _, r := range vpcs["results"].([]any) {
		if o := r.(map[string]any); o["fabric"] == fabricID {
			require.Contains(t, o["git_file_path"], "ui/managed/vpcs/", "the objects' own write-back lands")
		}
	}

	// Another edit: one more journal entry (new values), none repeated.
	admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": fabricID, "name": "vpc-ui9",
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.12.9.0/24", "vlan": 1209}}}})
	require.Eventually(t, func() bool { return remoteFile(t, srv, "uimade", "ui/managed/vpcs/vpc-ui9.yaml") != "" },
		30*time.Second, 50*time.Millisecond)
	tip2 := strings.SplitN(gitLog(t, srv, "uimade", "%H"), "\n", 2)[0]
	require.Eventually(t, func() bool {
		return strings.Contains(journalOf(t, admin, "hedgehogfabric", fabricID), "desired_state_commit="+tip2)
	}, 30*time.Second, 100*time.Millisecond)
	time.Sleep(2 * time.Second) // a repeat would come within this
	journal = journalOf(t, admin, "hedgehogfabric", fabricID)
	require.Equal(t, 1, strings.Count(journal, "desired_state_commit="+tip+","), journal)
	require.Equal(t, 1, strings.Count(journal, "desired_state_commit="+tip2+","), journal)

	code, comps := healthOf(t, s)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(comps["netbox"]), `"status":"ok"`, "NetBox's refusals are answers, not an outage")
	require.Zero(t, metric(t, s, `hnp_breaker_failures_total{dependency="netbox"}`))
	require.GreaterOrEqual(t, metric(t, s, `hnp_problems_writeback_refusals_total{target="fabric"}`), 2.0)
}

// A fabric linked to a Git repository the sidecar's NetBox user cannot see
// (a non-superuser sees only the repositories it created): the reason is
// shown in NetBox (each object's sync_error, the fabric's journal and
// sync_status), in the sidecar's health and job, and by the CLI with a
// non-zero exit. Nothing is written to Git and nothing reads as success.
func TestUnreadableRepositoryShownEverywhere(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "unseen", "HNP_QUEUE_COALESCE_WINDOW", "100ms", "HNP_RECONCILE_INTERVAL", "0",
		"HNP_NETBOX_TOKEN", netboxenv.Get(t).TokenRestricted)
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	admin := adminClient(t, env)
	repoID := admin.newGitRepository(t, "e2e-unseen", repoURL, "main") // the admin's: the sidecar's user cannot see it
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-unseen", "git_repository": repoID, "gitops_directory": "/un/"})
	vpc, _ := admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": fab["id"], "name": "vpc-un",
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.13.0.0/24", "vlan": 1300}}}})
	want := fmt.Sprintf("its Git repository (id %v) cannot be read: NetBox answers 404 to the sidecar's user on git-repos-api/%v/", repoID, repoID)

	var shown map[string]any
	require.Eventually(t, func() bool {
		shown, _ = admin.call(t, http.MethodGet, fmt.Sprintf("%svpcs/%v/", plugin, vpc["id"]), nil)
		return strings.Contains(fmt.Sprint(shown["sync_error"]), want)
	}, 30*time.Second, 100*time.Millisecond, "the VPC never showed the reason\n%s", s.Logs)
	t.Logf("NetBox, the VPC's sync_error: %s", shown["sync_error"])
	var fj string
	require.Eventually(t, func() bool {
		fj = journalOf(t, admin, "hedgehogfabric", fab["id"])
		return strings.Contains(fj, want)
	}, 30*time.Second, 100*time.Millisecond)
	t.Logf("NetBox, the fabric's journal: %s", strings.TrimSpace(fj))
	require.Eventually(t, func() bool { // the fabric's fields are written after its journal
		f, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%sfabrics/%v/", plugin, fab["id"]), nil)
		return f["sync_status"] == "error"
	}, 30*time.Second, 100*time.Millisecond, "the fabric never showed sync_status error\n%s", s.Logs)

	code, comps := healthOf(t, s)
	var fabrics map[string]any
	require.NoError(t, json.Unmarshal(comps["fabrics"], &fabrics))
	t.Logf("API, /api/v1/health (HTTP %d) fabrics: %v", code, fabrics)
	require.Equal(t, "degraded", fabrics["status"])
	require.Contains(t, fabrics["last_error"], "fabric e2e-unseen: "+want)

	cmd := exec.Command(binary(t), "resync", "--fabric", "e2e-unseen", "--timeout", "60s")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HNP_SIDECAR_URL=" + s.URL, "HNP_API_TOKEN=" + token}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	t.Logf("CLI: `hnp-sidecar resync --fabric e2e-unseen` exit %d:\n%s", exit.ExitCode(), out)
	require.Equal(t, 1, exit.ExitCode())
	require.Contains(t, string(out), "failed")
	require.Contains(t, string(out), want)
	require.NotContains(t, string(out), "succeeded")

	require.Empty(t, remoteFile(t, srv, "unseen", "un/managed/vpcs/vpc-un.yaml"), "nothing reached Git")
	require.Equal(t, 1, strings.Count(journalOf(t, admin, "hedgehogfabric", fab["id"]), want), "told once")
}
