package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

const plugin = "/api/plugins/hedgehog/"

// Real NetBox → real event rule → signed webhook → sidecar: for the fabric
// and each of the 12 kinds, create, update and delete reach the queue with
// the right key, event, user and request id.
func TestNetBoxChangesReachTheQueue(t *testing.T) {
	env := netboxenv.Get(t)
	srv := redisenv.Start(t)
	s := startSidecar(t, baseEnv(srv.URL()))

	out := runBootstrap(t, env, env.Token, s.URL, secret)
	require.Contains(t, out, "NetBox 4.7")
	out = runBootstrap(t, env, env.Token, s.URL, secret)
	require.Equal(t, 2, strings.Count(out, ": unchanged"), "second bootstrap changes nothing:\n%s", out)
	out = runBootstrap(t, env, env.TokenV1, s.URL, secret)
	require.Equal(t, 2, strings.Count(out, ": unchanged"), "v1 token works too:\n%s", out)
	sidecarNB := nbClient{url: env.URL, auth: "Bearer " + env.Token}
	hooks, _ := sidecarNB.call(t, http.MethodGet, "/api/extras/webhooks/?name=hnp-sidecar", nil)
	require.EqualValues(t, 1, hooks["count"], "no duplicate webhook")
	rules, _ := sidecarNB.call(t, http.MethodGet, "/api/extras/event-rules/?name=hnp-sidecar:%20hedgehog%20objects", nil)
	require.EqualValues(t, 1, rules["count"], "no duplicate event rule")

	admin := adminClient(t, env)
	expect := func(key, event, requestID string) {
		t.Helper()
		s.waitLog(t, 20*time.Second, `"msg":"webhook accepted"`, `"key":"`+key+`"`, `"event":"`+event+`"`,
			`"netbox_user":"`+env.AdminUser+`"`, `"request_id":"`+requestID+`"`)
	}
	start := time.Now()
	fab, rid := admin.newFabric(t, map[string]any{"name": "e2e-fabric"})
	fabricID := int64(fab["id"].(float64))
	fabricKey := fmt.Sprintf("netbox_hedgehog.hedgehogfabric:%d", fabricID)
	expect(fabricKey, "created", rid)

	for _, k := range kind.CRs() {
		path := plugin + k.Endpoint
		obj, rid := admin.call(t, http.MethodPost, path, map[string]any{
			"fabric": fabricID, "name": "e2e-" + strings.ToLower(k.Name), "spec": map[string]any{"description": "created"}})
		id := int64(obj["id"].(float64))
		key := k.ObjectType() + ":" + strconv.FormatInt(id, 10)
		expect(key, "created", rid)
		_, rid = admin.call(t, http.MethodPatch, fmt.Sprintf("%s%d/", path, id), map[string]any{"spec": map[string]any{"description": "changed"}})
		expect(key, "updated", rid)
		_, rid = admin.call(t, http.MethodDelete, fmt.Sprintf("%s%d/", path, id), nil)
		expect(key, "deleted", rid)
		s.waitLog(t, 10*time.Second, `"msg":"processed"`, `"key":"`+key+`"`)
	}
	_, rid = admin.call(t, http.MethodPatch, fmt.Sprintf("%sfabrics/%d/", plugin, fabricID), map[string]any{"gitops_directory": "/fabric-1/"})
	expect(fabricKey, "updated", rid)
	_, rid = admin.call(t, http.MethodDelete, fmt.Sprintf("%sfabrics/%d/", plugin, fabricID), nil)
	expect(fabricKey, "deleted", rid)
	t.Logf("13 object types × create/update/delete through NetBox: %s", time.Since(start).Round(time.Millisecond))

	// NetBox configured with the wrong secret: 401, nothing queued.
	before := metric(t, s, `hnp_queue_hints_total{result="queued"}`)
	out = runBootstrap(t, env, env.Token, s.URL, "not-the-sidecars-secret")
	require.Contains(t, out, `webhook "hnp-sidecar"`)
	require.Contains(t, out, ": updated")
	_, _ = admin.newFabric(t, map[string]any{"name": "e2e-wrong-secret", "gitops_directory": "/e2e-wrong-secret/"})
	s.waitLog(t, 20*time.Second, `"msg":"webhook refused"`, "signature does not match")
	require.Equal(t, before, metric(t, s, `hnp_queue_hints_total{result="queued"}`))
	require.GreaterOrEqual(t, metric(t, s, `hnp_webhooks_received_total{result="unauthorized"}`), 1.0)
	runBootstrap(t, env, env.Token, s.URL, secret)
}

// metric reads one sample from the sidecar's /metrics (0 when absent).
// metric is the value of one series of the sidecar's /metrics (0 when
// absent).
func metric(t *testing.T, s *sidecar, series string) float64 {
	t.Helper()
	return scrape(t, s, regexp.QuoteMeta(series))
}

// metricSum adds up every series of a metric.
func metricSum(t *testing.T, s *sidecar, name string) float64 {
	t.Helper()
	return scrape(t, s, regexp.QuoteMeta(name)+`(?:\{[^}]*\})?`)
}

// scrape adds up the values of the series of /metrics that match pattern.
func scrape(t *testing.T, s *sidecar, pattern string) float64 {
	t.Helper()
	r, err := http.Get(s.URL + "/metrics")
	require.NoError(t, err)
	defer func() { _ = r.Body.Close() }()
	b, _ := io.ReadAll(r.Body)
	sum := 0.0
	for _, m := range regexp.MustCompile(`(?m)^`+pattern+` (\S+)$`).FindAllSubmatch(b, -1) {
		v, err := strconv.ParseFloat(string(m[1]), 64)
		require.NoError(t, err)
		sum += v
	}
	return sum
}
