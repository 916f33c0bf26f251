package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/netns"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// cutProxy forwards TCP from its own 127.0.0.1 port to a target
// (netns.Forward), and can be cut (listener closed, open connections
// dropped: callers see "connection refused") and restored on the same port.
type cutProxy struct {
	t      *testing.T
	addr   string
	target string
	stop   func() // cancels the running Forward and waits for it
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	p := &cutProxy{t: t, addr: freeAddr(t), target: target}
	p.Restore()
	t.Cleanup(p.Cut)
	return p
}

func (p *cutProxy) Restore() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(p.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); netns.Forward(ctx, ln, netns.HostDial(p.target), nil) }()
	p.stop = func() { cancel(); <-done }
}

func (p *cutProxy) Cut() {
	if p.stop != nil {
		p.stop()
		p.stop = nil
	}
}

// via rewrites a URL to go through the proxy.
func (p *cutProxy) via(raw string) string {
	u, err := url.Parse(raw)
	require.NoError(p.t, err)
	u.Host = p.addr
	return u.String()
}

// healthOf reads /api/v1/health's components, with the details only the
// sidecar's token (or NetBox credentials) may see.
func healthOf(t *testing.T, s *sidecar) (int, map[string]json.RawMessage) {
	t.Helper()
	resp, err := getHealth(s)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	var h struct {
		Components map[string]json.RawMessage `json:"components"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	return resp.StatusCode, h.Components
}

func getHealth(s *sidecar) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, s.URL+"/api/v1/health", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultClient.Do(req)
}

func componentStatus(t *testing.T, s *sidecar, name string) string {
	t.Helper()
	_, c := healthOf(t, s)
	var r struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(c[name], &r)
	return r.Status
}

// vpcFiles lists the VPC files on the remote branch under dir.
func vpcFiles(t *testing.T, dir, root string) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "ls-tree", "-r", "--name-only", "main", root+"/managed/vpcs").Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}

// waitGitEqualsNetBox waits until the remote's VPC files under root are
// exactly vpc-0 … vpc-(n-1), the VPCs saved in NetBox.
func waitGitEqualsNetBox(t *testing.T, s *sidecar, dir, root string, n int) {
	t.Helper()
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("%s/managed/vpcs/vpc-%d.yaml", root, i)
	}
	sort.Strings(want)
	require.Eventually(t, func() bool { return strings.Join(vpcFiles(t, dir, root), "\n") == strings.Join(want, "\n") },
		60*time.Second, 100*time.Millisecond, "Git never matched NetBox: %v\n%s", vpcFiles(t, dir, root), s.Logs)
}

// waitBreakerOpen waits until a health component is down (its breaker
// open) and prints the component's health JSON.
func waitBreakerOpen(t *testing.T, s *sidecar, component, during string) {
	t.Helper()
	require.Eventually(t, func() bool { return componentStatus(t, s, component) == "down" }, 60*time.Second, 100*time.Millisecond,
		"the %s breaker never opened\n%s", component, s.Logs)
	code, comps := healthOf(t, s)
	t.Logf("health during %s (HTTP %d): %s %s", during, code, component, comps[component])
}

// requireNoDeadLetters: an outage alone dead-letters nothing.
func requireNoDeadLetters(t *testing.T, s *sidecar) {
	t.Helper()
	var dl struct {
		Count int `json:"count"`
	}
	require.Equal(t, http.StatusOK, sidecarGet(t, s, "/api/v1/deadletters", &dl))
	require.Zero(t, dl.Count, "an outage alone dead-letters nothing\n%s", s.Logs)
}

func createVPC(t *testing.T, admin nbClient, fabric any, i int) {
	t.Helper()
	admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": fabric, "name": fmt.Sprintf("vpc-%d", i),
		"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{
			"subnet": fmt.Sprintf("10.6.%d.0/24", i), "vlan": 1600 + i}}}})
}

// The Git remote is unreachable while NetBox changes stream in: every
// webhook is answered 202, the Git breaker opens, nothing is
// dead-lettered; when the remote is back the backlog drains into a few
// commits and Git equals NetBox.
func TestGitOutageUnderAStream(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "outage", "HNP_RECONCILE_INTERVAL", "0", "HNP_QUEUE_COALESCE_WINDOW", "100ms",
		"HNP_BREAKER_FAILURES", "3", "HNP_BREAKER_OPEN_TIMEOUT", "2s", "HNP_QUEUE_BACKOFF_BASE", "200ms", "HNP_QUEUE_BACKOFF_MAX", "2s",
		"HNP_QUEUE_MAX_ATTEMPTS", "4")
	u, err := url.Parse(repoURL)
	require.NoError(t, err)
	proxy := newCutProxy(t, u.Host)
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-git-outage",
		"git_repository_url": proxy.via(repoURL), "git_branch": "main", "gitops_directory": "/go/"})
	sc["HNP_GIT_DEFAULT_URL"] = proxy.via(repoURL) // the sidecar reaches the remote (and sends its credentials) through the proxy
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	for i := range 3 {
		createVPC(t, admin, fab["id"], i)
	}
	require.Eventually(t, func() bool { return len(vpcFiles(t, srv.Dir("outage"), "go")) == 3 }, 30*time.Second, 100*time.Millisecond)
	before := len(strings.Fields(gitLog(t, srv, "outage", "%H")))
	accepted0 := metric(t, s, `hnp_webhooks_received_total{result="accepted"}`)

	proxy.Cut()
	cut := time.Now()
	n := 3
	for ; n < 23; n++ {
		createVPC(t, admin, fab["id"], n)
		time.Sleep(150 * time.Millisecond)
	}
	waitBreakerOpen(t, s, "git_sync", "the Git outage")
	time.Sleep(5 * time.Second) // a few open/half-open rounds
	requireNoDeadLetters(t, s)
	accepted := metric(t, s, `hnp_webhooks_received_total{result="accepted"}`) - accepted0
	require.Zero(t, metric(t, s, `hnp_webhooks_received_total{result="unavailable"}`))

	proxy.Restore()
	back := time.Now()
	waitGitEqualsNetBox(t, s, srv.Dir("outage"), "go", n)
	drained := time.Since(back)
	commits := len(strings.Fields(gitLog(t, srv, "outage", "%H"))) - before
	require.LessOrEqual(t, commits, 3, "the backlog drains into a few commits")
	require.Eventually(t, func() bool { return componentStatus(t, s, "git_sync") == "ok" }, 30*time.Second, 100*time.Millisecond)
	t.Logf("Git outage %s under %d NetBox changes: %.0f webhooks accepted (202), 0 dead letters; remote back → Git == NetBox in %s, %d commit(s)",
		back.Sub(cut).Round(time.Millisecond), n-3, accepted, drained.Round(time.Millisecond), commits)
}

// NetBox's API is unreachable for the sidecar while NetBox keeps sending
// webhooks: the hints are kept (no dead letters), the NetBox breaker
// opens, and once the API is back everything is reconciled.
func TestNetBoxAPIOutage(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "nbout", "HNP_RECONCILE_INTERVAL", "0", "HNP_QUEUE_COALESCE_WINDOW", "100ms",
		"HNP_BREAKER_FAILURES", "3", "HNP_BREAKER_OPEN_TIMEOUT", "2s", "HNP_QUEUE_BACKOFF_BASE", "200ms", "HNP_QUEUE_BACKOFF_MAX", "2s",
		"HNP_QUEUE_MAX_ATTEMPTS", "4")
	u, err := url.Parse(env.URL)
	require.NoError(t, err)
	proxy := newCutProxy(t, u.Host)
	sc["HNP_NETBOX_URL"] = proxy.via(env.URL)
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-nb-outage",
		"git_repository_url": repoURL, "git_branch": "main", "gitops_directory": "/nb/"})
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	createVPC(t, admin, fab["id"], 0)
	require.Eventually(t, func() bool { return len(vpcFiles(t, srv.Dir("nbout"), "nb")) == 1 }, 30*time.Second, 100*time.Millisecond)

	proxy.Cut()
	cut := time.Now()
	n := 1
	for ; n < 12; n++ {
		createVPC(t, admin, fab["id"], n)
		time.Sleep(150 * time.Millisecond)
	}
	waitBreakerOpen(t, s, "netbox", "the NetBox API outage")
	time.Sleep(5 * time.Second)
	requireNoDeadLetters(t, s)

	proxy.Restore()
	back := time.Now()
	waitGitEqualsNetBox(t, s, srv.Dir("nbout"), "nb", n)
	t.Logf("NetBox API outage %s under %d changes: hints kept, 0 dead letters; API back → Git == NetBox in %s",
		back.Sub(cut).Round(time.Millisecond), n-1, time.Since(back).Round(time.Millisecond))
}

// Redis (append-only, fsync always, as the project's scripts configure it)
// restarts while NetBox changes stream in. Hints accepted before the
// restart are kept and processed; webhooks that arrive while it is down are
// refused (503) and NetBox does not send them again: any later change of
// the fabric (each reconcile reads the whole fabric) or the next full
// reconcile (periodic, or a re-sync) brings those in. Git == NetBox after.
func TestRedisRestartMidStream(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "rds", "HNP_RECONCILE_INTERVAL", "0", "HNP_QUEUE_COALESCE_WINDOW", "100ms",
		"HNP_QUEUE_BACKOFF_BASE", "200ms", "HNP_QUEUE_BACKOFF_MAX", "2s")
	rs := redisenv.Start(t)
	sc["HNP_REDIS_URL"] = rs.URL()
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-redis-restart",
		"git_repository_url": repoURL, "git_branch": "main", "gitops_directory": "/rr/"})
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)

	n := 0
	var down time.Duration
	for ; n < 20; n++ {
		if n == 10 {
			stopped := time.Now()
			rs.Stop()
			for ; n < 13; n++ { // their webhooks meet no Redis
				createVPC(t, admin, fab["id"], n)
				time.Sleep(time.Second)
			}
			n--
			var err error
			rs, err = redisenv.RunOn(rs.Binary(), rs.Dir, rs.Port())
			require.NoError(t, err)
			t.Cleanup(rs.Stop)
			down = time.Since(stopped)
			continue
		}
		createVPC(t, admin, fab["id"], n)
		time.Sleep(100 * time.Millisecond)
	}
	// The accepted hints drain; the refused ones are missing until the
	// full reconcile.
	time.Sleep(3 * time.Second)
	require.Eventually(t, func() bool {
		var q struct {
			Components map[string]struct {
				Details map[string]any `json:"details"`
			} `json:"components"`
		}
		resp, err := getHealth(s)
		if err != nil {
			return false
		}
		defer func() { _ = resp.Body.Close() }()
		_ = json.NewDecoder(resp.Body).Decode(&q)
		d := q.Components["queue"].Details
		return d["waiting"] == 0.0 && d["in_flight"] == 0.0
	}, 60*time.Second, 200*time.Millisecond, "the queue never drained\n%s", s.Logs)
	refused := metric(t, s, `hnp_webhooks_received_total{result="unavailable"}`)
	have := len(vpcFiles(t, srv.Dir("rds"), "rr"))
	t.Logf("Redis down %s mid-stream: %d VPCs saved, %.0f webhooks refused with 503, %d in Git before the full reconcile",
		down.Round(time.Millisecond), n, refused, have)
	require.GreaterOrEqual(t, have, n-int(refused)-1, "every accepted hint was kept")

	begin := time.Now()
	require.Equal(t, http.StatusAccepted, sidecarDo(t, s, http.MethodPost, fmt.Sprintf("/api/v1/fabrics/%v/sync", fab["id"]), nil))
	waitGitEqualsNetBox(t, s, srv.Dir("rds"), "rr", n)
	t.Logf("full reconcile after the restart: Git == NetBox in %s", time.Since(begin).Round(time.Millisecond))
}
