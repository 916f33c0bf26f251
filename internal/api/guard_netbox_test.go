package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func TestMain(m *testing.M) { os.Exit(netboxenv.Main(m)) }

const sidecarToken = "sidecar-token-0123456789"

// nbAdmin calls NetBox's REST API with the superuser's token.
type nbAdmin struct {
	t   *testing.T
	url string
	tok string
}

func (a nbAdmin) call(method, path string, body any, want int) map[string]any {
	a.t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest(method, a.url+path, bytes.NewReader(raw))
	require.NoError(a.t, err)
	req.Header.Set("Authorization", "Bearer "+a.tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer func() { _ = resp.Body.Close() }()
	out, _ := io.ReadAll(resp.Body)
	require.Equal(a.t, want, resp.StatusCode, "%s %s: %s", method, path, out)
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	return m
}

// user makes a NetBox user with the given actions on one fabric (an
// ObjectPermission constrained to its id; none when actions is empty) and
// returns its id and the Authorization of a write-enabled v2 token.
func (a nbAdmin) user(name string, fabric int64, actions ...string) (int64, string) {
	a.t.Helper()
	u := a.call(http.MethodPost, "/api/users/users/", map[string]any{"username": name, "password": "Pw-" + name + "-0123456789!"}, http.StatusCreated)
	uid := int64(u["id"].(float64))
	if len(actions) > 0 {
		a.call(http.MethodPost, "/api/users/permissions/", map[string]any{
			"name": name + " on fabric", "object_types": []string{"netbox_hedgehog.hedgehogfabric"},
			"actions": actions, "constraints": map[string]any{"id": fabric}, "users": []int64{uid},
		}, http.StatusCreated)
	}
	return uid, a.token(uid, true)
}

// token makes a v2 token of user uid.
func (a nbAdmin) token(uid int64, write bool) string {
	a.t.Helper()
	tok := a.call(http.MethodPost, "/api/users/tokens/", map[string]any{"user": uid, "write_enabled": write}, http.StatusCreated)
	if key, ok := tok["key"].(string); ok && key != "" {
		return fmt.Sprintf("Bearer nbt_%s.%s", key, tok["token"])
	}
	return fmt.Sprintf("Token %s", tok["token"])
}

// counter is a reverse proxy in front of NetBox that counts the requests
// that reach NetBox.
type counter struct {
	srv *httptest.Server
	n   atomic.Int64
}

func newCounter(t *testing.T, target string) *counter {
	u, err := url.Parse(target)
	require.NoError(t, err)
	c := &counter{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		r.Host = u.Host
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

type rig struct {
	t      *testing.T
	url    string
	nb     *counter
	admin  nbAdmin
	fabric int64
	other  int64
	redis  *redisenv.Server
	queue  *queue.Queue
	jobs   *jobs.Store
	state  *state.Store
}

func startRig(t *testing.T, guard config.APIConfig) *rig {
	env := netboxenv.Get(t)
	r := &rig{t: t, admin: nbAdmin{t: t, url: env.URL, tok: env.Token}}
	suffix := randHex(4)
	r.fabric = int64(r.admin.call(http.MethodPost, "/api/plugins/hedgehog/fabrics/", fabric.WithWatch(map[string]any{"name": "guard-" + suffix}), http.StatusCreated)["id"].(float64))
	r.other = int64(r.admin.call(http.MethodPost, "/api/plugins/hedgehog/fabrics/", fabric.WithWatch(map[string]any{"name": "guard-other-" + suffix}), http.StatusCreated)["id"].(float64))
	r.nb = newCounter(t, env.URL)
	nb, err := netbox.New(netbox.Options{URL: r.nb.srv.URL, Token: env.Token})
	require.NoError(t, err)
	r.redis = redisenv.Start(t)
	rdb := r.redis.Client(t)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	r.queue, err = queue.New(rdb, queue.DefaultOptions(), logger, prometheus.NewRegistry())
	require.NoError(t, err)
	r.jobs = jobs.New(rdb, "hnp")
	r.state, err = state.New(rdb, state.Options{Prefix: "hnp"}, prometheus.NewRegistry())
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	srv := api.New(api.Parts{Logger: logger, APIToken: config.Secret(sidecarToken), Metrics: reg,
		Queue: r.queue, Jobs: r.jobs, States: r.state, NetBox: nb, Guard: guard})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	r.url = hs.URL
	ctx := context.Background()
	for _, f := range []int64{r.fabric, r.other} {
		k := state.Key{Fabric: f, Kind: "VPC", Namespace: "default", Name: fmt.Sprintf("vpc-of-%d", f)}
		require.NoError(t, r.state.Move(ctx, state.Change{Key: k, To: state.Draft, FabricName: fmt.Sprintf("f%d", f), NetBoxID: 1}))
	}
	return r
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (r *rig) do(method, path, authz string) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url+path, nil)
	require.NoError(r.t, err)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func (r *rig) page(authz, query string) api.ResourcesPage {
	r.t.Helper()
	code, body := r.do(http.MethodGet, "/api/v1/resources"+query, authz)
	require.Equal(r.t, http.StatusOK, code, string(body))
	var p api.ResourcesPage
	require.NoError(r.t, json.Unmarshal(body, &p))
	return p
}

func fabricsOf(p api.ResourcesPage) map[int64]bool {
	out := map[int64]bool{}
	for _, rec := range p.Results {
		out[rec.Fabric] = true
	}
	return out
}

// A NetBox user may re-sync a fabric only with NetBox's change permission
// on it, and read it (states, jobs) only with view; lists show only what
// it may view. Asked of NetBox with the user's own token.
func TestNetBoxPermissionsPerFabric(t *testing.T) {
	r := startRig(t, config.APIConfig{RateLimit: 1000, RateBurst: 1000})
	s := randHex(3)
	changerID, changer := r.admin.user("guard-change-"+s, r.fabric, "view", "change")
	_, viewer := r.admin.user("guard-view-"+s, r.fabric, "view")
	_, stranger := r.admin.user("guard-none-"+s, r.fabric)
	readOnly := r.admin.token(changerID, false)
	own := "Bearer " + sidecarToken
	fab, other := fmt.Sprint(r.fabric), fmt.Sprint(r.other)
	before := r.admin.call(http.MethodGet, "/api/plugins/hedgehog/fabrics/"+fab+"/", nil, http.StatusOK)

	sync := func(authz, f string) (int, api.SyncResponse) {
		code, body := r.do(http.MethodPost, "/api/v1/fabrics/"+f+"/sync", authz)
		var resp api.SyncResponse
		_ = json.Unmarshal(body, &resp)
		t.Logf("re-sync of fabric %s: HTTP %d %s", f, code, bytes.TrimSpace(body))
		return code, resp
	}
	code, job := sync(changer, fab)
	require.Equal(t, http.StatusAccepted, code, "view+change: may re-sync")
	code, _ = sync(changer, other)
	require.Equal(t, http.StatusForbidden, code, "no permission on the other fabric")
	code, _ = sync(viewer, fab)
	require.Equal(t, http.StatusForbidden, code, "view only: may not re-sync")
	code, _ = sync(stranger, fab)
	require.Equal(t, http.StatusForbidden, code, "no permission: may not re-sync")
	code, _ = sync(readOnly, fab)
	require.Equal(t, http.StatusForbidden, code, "a read-only token of the changer: may not re-sync")
	code, _ = sync(own, other)
	require.Equal(t, http.StatusAccepted, code, "the sidecar's token may everything")

	after := r.admin.call(http.MethodGet, "/api/plugins/hedgehog/fabrics/"+fab+"/", nil, http.StatusOK)
	require.Equal(t, before["name"], after["name"], "the change probe saved nothing")
	require.Equal(t, before["last_updated"], after["last_updated"], "the change probe saved nothing")
	changes := r.admin.call(http.MethodGet, "/api/core/object-changes/?changed_object_id="+fab+"&action=update", nil, http.StatusOK)
	for _, c := range changes["results"].([]any) {
		require.NotContains(t, fmt.Sprint(c.(map[string]any)["changed_object_type"]), "fabric", "the probe logged a change")
	}

	rec := "/api/v1/resources/" + fab + "/VPC/default/vpc-of-" + fab
	for _, tc := range []struct {
		name, authz string
		want        int
	}{{"viewer", viewer, 200}, {"changer", changer, 200}, {"stranger", stranger, 404}, {"sidecar", own, 200}} {
		code, body := r.do(http.MethodGet, rec, tc.authz)
		require.Equal(t, tc.want, code, "%s reads fabric %s's state: %s", tc.name, fab, body)
		code, body = r.do(http.MethodGet, "/api/v1/jobs/"+job.Job.ID, tc.authz)
		require.Equal(t, tc.want, code, "%s reads the fabric's job: %s", tc.name, body)
		code, _ = r.do(http.MethodGet, "/api/v1/resources?fabric="+fab, tc.authz)
		require.Equal(t, tc.want, code, "%s lists fabric %s", tc.name, fab)
	}
	require.Equal(t, map[int64]bool{r.fabric: true}, fabricsOf(r.page(viewer, "")), "the viewer's list: its fabric only")
	require.Empty(t, fabricsOf(r.page(stranger, "")), "the stranger's list: nothing")
	all := fabricsOf(r.page(own, ""))
	require.True(t, all[r.fabric] && all[r.other], "the sidecar's list: every fabric")
}

// 300 re-syncs while one waits leave one job and one queue entry.
func TestResyncsLeaveOneJob(t *testing.T) {
	r := startRig(t, config.APIConfig{RateLimit: 100000, RateBurst: 100000})
	_, changer := r.admin.user("guard-many-"+randHex(3), r.fabric, "view", "change")
	ids := map[string]int{}
	for i := range 300 {
		authz := changer
		if i%2 == 0 {
			authz = "Bearer " + sidecarToken
		}
		code, body := r.do(http.MethodPost, fmt.Sprintf("/api/v1/fabrics/%d/sync", r.fabric), authz)
		require.Equal(t, http.StatusAccepted, code, string(body))
		var resp api.SyncResponse
		require.NoError(t, json.Unmarshal(body, &resp))
		ids[resp.Job.ID]++
	}
	rdb := r.redis.Client(t)
	keys, err := rdb.Keys(context.Background(), "{hnp}:job:*").Result()
	require.NoError(t, err)
	hints, err := rdb.LLen(context.Background(), fmt.Sprintf("{hnp}:q:hints:netbox_hedgehog.hedgehogfabric:%d", r.fabric)).Result()
	require.NoError(t, err)
	t.Logf("300 re-syncs: %d job id(s) answered, %d job key(s) in Redis, %d hint(s) queued", len(ids), len(keys), hints)
	require.Len(t, ids, 1)
	require.Len(t, keys, 1)
	require.EqualValues(t, 1, hints)
}

// Random credentials cost NetBox a handful of calls, then 429; known ones
// are answered from the cache.
func TestRandomCredentialsCostFewNetBoxCalls(t *testing.T) {
	r := startRig(t, config.APIConfig{RateLimit: 10, RateBurst: 20})
	start := r.nb.n.Load()
	codes := map[int]int{}
	retryAfter := ""
	for range 200 {
		req, _ := http.NewRequest(http.MethodGet, r.url+"/api/v1/resources", nil)
		req.Header.Set("Authorization", "Token "+randHex(20))
		req.Header.Set("X-Forwarded-For", randHex(4)) // not trusted: the connection's address counts
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		codes[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests {
			retryAfter = resp.Header.Get("Retry-After")
		}
	}
	calls := r.nb.n.Load() - start
	t.Logf("200 requests with random Authorization: %d NetBox calls, answers %v, Retry-After %q", calls, codes, retryAfter)
	require.LessOrEqual(t, calls, int64(5))
	require.Positive(t, codes[http.StatusTooManyRequests])
	require.NotEmpty(t, retryAfter)
	require.Zero(t, codes[http.StatusOK])
}

func TestKnownCredentialsAreCached(t *testing.T) {
	r := startRig(t, config.APIConfig{RateLimit: 100000, RateBurst: 100000})
	_, viewer := r.admin.user("guard-cache-"+randHex(3), r.fabric, "view")
	start := r.nb.n.Load()
	for range 200 {
		code, body := r.do(http.MethodGet, fmt.Sprintf("/api/v1/resources/%d/VPC/default/vpc-of-%d", r.fabric, r.fabric), viewer)
		require.Equal(t, http.StatusOK, code, string(body))
	}
	calls := r.nb.n.Load() - start
	t.Logf("200 reads with one NetBox token: %d NetBox calls", calls)
	require.LessOrEqual(t, calls, int64(2), "identity and the view permission, once each")
}
