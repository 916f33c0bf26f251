package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A plugin without gitops-resources/ (a proxy before the real NetBox
// answers 404 there, as such builds do): the sidecar asks once, logs it
// once, shows "off" in its health and keeps syncing; no error loop.
func TestHedgehogResourcesOffWithoutEndpoint(t *testing.T) {
	env, srv, repoURL, sc := reconcileSetup(t, "hr-off", "HNP_QUEUE_COALESCE_WINDOW", "100ms", "HNP_RECONCILE_INTERVAL", "0",
		"HNP_DRIFT_INTERVAL", "0")
	u, err := url.Parse(env.URL)
	require.NoError(t, err)
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = r.In.Host }}
	var asked atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	proxy := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/api/plugins/hedgehog/gitops-resources/") {
			asked.Add(1)
			http.Error(w, `{"detail":"Not found."}`, http.StatusNotFound)
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = proxy.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = proxy.Shutdown(ctx)
	})
	sc["HNP_NETBOX_URL"] = "http://" + ln.Addr().String()
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-hr-off", "git_repository_url": repoURL, "git_branch": "main",
		"gitops_directory": "/hr-off/"})
	for i, vlan := range []int{1701, 1702, 1703} {
		name := fmt.Sprintf("vpc-off-%d", i)
		admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": fab["id"], "name": name,
			"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": fmt.Sprintf("10.17.%d.0/24", i), "vlan": vlan}}}})
		require.Eventually(t, func() bool { return remoteFile(t, srv, "hr-off", "hr-off/managed/vpcs/"+name+".yaml") != "" },
			30*time.Second, 50*time.Millisecond, "%s never reached Git\n%s", name, s.Logs)
	}
	time.Sleep(2 * time.Second) // the write-backs of the last run
	_, comps := healthOf(t, s)
	var nr struct {
		Status  string         `json:"status"`
		Details map[string]any `json:"details"`
	}
	require.NoError(t, json.Unmarshal(comps["netbox_resources"], &nr), "%s", comps)
	require.Equal(t, "off", nr.Details["gitops_resources"])
	require.Equal(t, "disabled", nr.Status, "configured on, off because the plugin has none: not a fault")
	require.Equal(t, int64(1), asked.Load(), "asked once, not per run")
	require.Equal(t, 1, strings.Count(s.Logs.String(), "the plugin has no gitops-resources/"), "logged once")
	t.Logf("3 VPCs synced through a plugin without gitops-resources/: %d request(s) to it, health netbox_resources %s", asked.Load(), comps["netbox_resources"])
}
