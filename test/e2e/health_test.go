package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// healthStatus is /api/v1/health's answer: its HTTP code, the overall
// status and each component's status and breaker details.
type healthStatus struct {
	Code       int
	Status     string `json:"status"`
	Components map[string]struct {
		Status  string         `json:"status"`
		Details map[string]any `json:"details"`
	} `json:"components"`
}

func readHealth(t *testing.T, s *sidecar) healthStatus {
	t.Helper()
	resp, err := getHealth(s)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	var h healthStatus
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	h.Code = resp.StatusCode
	return h
}

func readyz(t *testing.T, s *sidecar) int {
	t.Helper()
	r, err := http.Get(s.URL + "/readyz")
	require.NoError(t, err)
	_ = r.Body.Close()
	return r.StatusCode
}

// Real NetBox behind a port that is closed for a while: the first failed
// call makes the netbox component degraded (its breaker still closed) and
// the whole report degraded, /readyz stays 200 (the queue keeps the
// work); components configured off are listed as disabled; NetBox back →
// ok again and Git == NetBox.
func TestNetBoxDegradedAfterOneFailedCall(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "nbdeg", "HNP_RECONCILE_INTERVAL", "0", "HNP_QUEUE_COALESCE_WINDOW", "100ms",
		"HNP_BREAKER_FAILURES", "50", "HNP_QUEUE_BACKOFF_BASE", "1s", "HNP_QUEUE_BACKOFF_MAX", "2s", "HNP_QUEUE_MAX_ATTEMPTS", "100",
		"HNP_ARGOCD_DRIVER", "off", "HNP_DRIFT_INTERVAL", "0")
	u, err := url.Parse(env.URL)
	require.NoError(t, err)
	proxy := newCutProxy(t, u.Host)
	sc["HNP_NETBOX_URL"] = proxy.via(env.URL)
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-nb-degraded",
		"git_repository_url": repoURL, "git_branch": "main", "gitops_directory": "/deg/"})
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	createVPC(t, admin, fab["id"], 0)
	waitGitEqualsNetBox(t, s, srv.Dir("nbdeg"), "deg", 1)

	h := readHealth(t, s)
	require.Equal(t, "ok", h.Components["netbox"].Status)
	for _, off := range []string{"argocd", "kubernetes", "drift"} {
		require.Equal(t, "disabled", h.Components[off].Status, "%s is configured off", off)
	}
	t.Logf("before: HTTP %d, overall %s", h.Code, h.Status)
	require.Equal(t, "ok", h.Status, "%+v", h.Components)

	proxy.Cut()
	cut := time.Now()
	createVPC(t, admin, fab["id"], 1) // its reconcile reads NetBox through the closed port
	require.Eventually(t, func() bool { h = readHealth(t, s); return h.Components["netbox"].Status == "degraded" },
		30*time.Second, 20*time.Millisecond, "netbox never degraded\n%s", s.Logs)
	nb := h.Components["netbox"]
	t.Logf("NetBox's port closed: netbox %s after %s, breaker %v, consecutive failures %v; overall %s (HTTP %d), /readyz %d",
		nb.Status, time.Since(cut).Round(time.Millisecond), nb.Details["state"], remoteFailures(nb.Details), h.Status, h.Code, readyz(t, s))
	// One reconcile's calls fail together (a few within milliseconds); the
	// unit tests (breaker.TestReportStatusRules) show one failure is enough.
	require.Less(t, firstFailures(nb.Details), 50.0, "degraded long before the breaker would open")
	require.Equal(t, "closed", nb.Details["state"], "degraded before the breaker opens")
	require.Equal(t, "degraded", h.Status, "the overall status is the worst component's")
	require.Equal(t, http.StatusOK, h.Code)
	require.Equal(t, http.StatusOK, readyz(t, s), "the queue keeps the work: still ready")

	proxy.Restore()
	back := time.Now()
	waitGitEqualsNetBox(t, s, srv.Dir("nbdeg"), "deg", 2)
	require.Eventually(t, func() bool { return readHealth(t, s).Components["netbox"].Status == "ok" },
		30*time.Second, 50*time.Millisecond)
	h = readHealth(t, s)
	t.Logf("NetBox back: netbox ok and Git == NetBox %s later; overall %s", time.Since(back).Round(time.Millisecond), h.Status)
	require.Equal(t, "ok", h.Status)
	requireNoDeadLetters(t, s)
}

// remoteFailures is each NetBox remote's consecutive failures.
func remoteFailures(details map[string]any) map[string]any {
	out := map[string]any{}
	rs, _ := details["remotes"].(map[string]any)
	for k, v := range rs {
		if r, ok := v.(map[string]any); ok {
			d, _ := r["details"].(map[string]any)
			out[k] = d["consecutive_failures"]
		}
	}
	return out
}

// firstFailures is the largest consecutive_failures among the remotes.
func firstFailures(details map[string]any) float64 {
	most := 0.0
	for _, v := range remoteFailures(details) {
		if n, ok := v.(float64); ok && n > most {
			most = n
		}
	}
	return most
}
