package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/argocd/install"
	"github.com/githedgehog/hnp-sidecar/internal/client"
	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	argocdenv "github.com/githedgehog/hnp-sidecar/internal/testenv/argocd"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func fabricJSON(t *testing.T, s string) (f netbox.Fabric) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(s), &f))
	return f
}

// With no cluster configured, an installation is refused with how to
// give the sidecar one.
func TestInstallWithoutCluster(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	cfg, err := config.LoadConfig(env(map[string]string{"HNP_REDIS_URL": "redis://127.0.0.1:1/0",
		"HNP_WEBHOOK_SECRET": testSecret, "HNP_API_TOKEN": testToken}))
	require.NoError(t, err)
	logger := slog.New(slog.DiscardHandler)
	breakers, err := newBreakers(cfg, logger, prometheus.NewRegistry())
	require.NoError(t, err)
	inst, err := newInstaller(cfg, nil, newPlaces(cfg, nil, newClusters(cfg, breakers, logger)), prometheus.NewRegistry(), logger)
	require.NoError(t, err)
	_, err = inst.Cluster(fabricJSON(t, `{"id": 1}`))
	require.ErrorContains(t, err, "set HNP_KUBECONFIG")
	require.ErrorIs(t, err, cluster.ErrNoCluster)
}

// stubNetBox answers the plugin's fabric endpoints from fabrics (by id).
// The NetBox client is tested against a real NetBox in internal/netbox;
// here only the installation's use of it matters.
func stubNetBox(t *testing.T, fabrics map[int]string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/plugins/hedgehog/fabrics/" {
			var all []json.RawMessage
			for _, f := range fabrics {
				all = append(all, json.RawMessage(f))
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"count": len(all), "results": all})
			return
		}
		var id int
		if _, err := fmt.Sscanf(r.URL.Path, "/api/plugins/hedgehog/fabrics/%d/", &id); err == nil && fabrics[id] != "" {
			_, _ = io.WriteString(w, fabrics[id])
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"detail":"Not found."}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func writeKubeconfig(t *testing.T, c *clusterenv.Cluster) string {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: c.URL, CertificateAuthorityData: c.CA}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: c.Token}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin"}
	cfg.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

// POST /api/v1/fabrics/{id}/argocd/install against a real Redis and
// kube-apiserver: refusals, one installation at a time, the job's
// progress and counts; then `argocd install` through the client sends
// the manifest file again and changes nothing.
func TestInstallArgoCDEndpoint(t *testing.T) {
	manifest := argocdenv.InstallManifest(t)
	c := clusterenv.StartWith(t, clusterenv.Options{NoHedgehogCRDs: true})
	srv := redisenv.Start(t)
	nb := stubNetBox(t, map[int]string{
		1: `{"id": 1, "name": "fab-1", "git_repository_url": "https://git.example.com/fab.git", "git_branch": "main",
			"gitops_directory": "/fab/", "prune_enabled": true}`,
		2: `{"id": 2, "name": "fab-flux", "gitops_tool": "flux", "git_repository_url": "https://git.example.com/f.git"}`,
		3: `{"id": 3, "name": "fab-no-repo"}`,
	})
	cfg, err := config.LoadConfig(env(map[string]string{
		"HNP_REDIS_URL": srv.URL(), "HNP_WEBHOOK_SECRET": testSecret, "HNP_API_TOKEN": testToken,
		"HNP_LISTEN_ADDR": "127.0.0.1:0", "HNP_NETBOX_URL": nb, "HNP_NETBOX_TOKEN": strings.Repeat("a", 40),
		"HNP_RECONCILE_INTERVAL": "0", "HNP_KUBECONFIG": writeKubeconfig(t, c),
		"HNP_GIT_ALLOWED_URLS": "git.example.com", "HNP_GIT_CREDENTIALS_FILE": gitCredentials(t),
		"HNP_ARGOCD_INSTALL_MANIFEST": manifest,
	}))
	require.NoError(t, err)
	logs := &syncBuffer{}
	a, err := New(cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		queue.HandlerFunc(func(context.Context, queue.Item) error { return nil }))
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, a.Stop(ctx))
	})
	base := "http://" + a.Addr()
	post := func(fabric, body string) (int, map[string]any) {
		r := do(t, http.MethodPost, base+"/api/v1/fabrics/"+fabric+"/argocd/install", testToken, []byte(body))
		var m map[string]any
		decode(t, r, &m)
		return r.StatusCode, m
	}

	require.Equal(t, 401, do(t, http.MethodPost, base+"/api/v1/fabrics/1/argocd/install", "", nil).StatusCode)
	for _, tc := range []struct {
		fabric, body string
		code         int
		err          string
	}{
		{"99", "", 404, "no fabric 99"},
		{"fab-flux", "", 409, `uses gitops_tool "flux"`},
		{"3", "", 409, "has no Git repository"},
		{"1", `{"manifest_url": "file:///etc/passwd"}`, 400, "must be an http(s) URL"},
		{"1", `{"wait": "soon"}`, 400, "wait"},
		{"1", `{`, 400, "body"},
	} {
		code, m := post(tc.fabric, tc.body)
		require.Equal(t, tc.code, code, "%s %s: %v", tc.fabric, tc.body, m)
		require.Contains(t, m["error"], tc.err)
	}

	cs, err := kubernetes.NewForConfig(c.Config)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ready := make(chan error, 1)
	go func() { ready <- c.MarkWorkloadsReady(ctx, "argocd", 6, 1) }()
	start := time.Now()
	code, m := post("fab-1", `{"wait": "1m"}`)
	require.Equal(t, 202, code, "%v", m)
	started := m["job"].(map[string]any)
	require.Equal(t, jobs.KindArgoCDInstall, started["kind"])
	code, m = post("1", "")
	require.Equal(t, 409, code, "a second installation while one runs: %v", m)
	require.Equal(t, started["id"], m["job"])

	var j jobs.Job
	phases := map[string]bool{}
	require.Eventually(t, func() bool {
		decode(t, get(t, base+m["status_url"].(string), testToken), &j)
		phases[j.Phase] = true
		return j.State == jobs.Succeeded || j.State == jobs.Failed
	}, time.Minute, 20*time.Millisecond)
	require.NoError(t, <-ready)
	require.Equal(t, jobs.Succeeded, j.State, "%+v\n%s", j, logs)
	require.NotNil(t, j.Applied)
	require.Equal(t, jobs.Applied{Created: j.Objects}, *j.Applied)
	require.Contains(t, j.Phase, "Application argocd/hnp-1-fab-1")
	require.True(t, phases[install.PhaseWorkloads.Description()], "progress: %v", phases)
	t.Logf("endpoint, first run: %d objects %+v in %s; phases seen %d", j.Objects, *j.Applied, time.Since(start).Round(time.Millisecond), len(phases))

	dyn, err := c.Dynamic()
	require.NoError(t, err)
	app, err := dyn.Resource(argocd.ApplicationGVR).Namespace("argocd").Get(ctx, "hnp-1-fab-1", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "fab/managed", app.Object["spec"].(map[string]any)["source"].(map[string]any)["path"])
	secrets, err := cs.CoreV1().Secrets("argocd").List(ctx, metav1.ListOptions{LabelSelector: "argocd.argoproj.io/secret-type=repository"})
	require.NoError(t, err)
	require.Len(t, secrets.Items, 1)
	require.NotContains(t, logs.String(), "git-password")

	// The operator's command: the manifest file is read here and sent.
	body, err := client.InstallArgoCDBody(manifest, time.Minute)
	require.NoError(t, err)
	var out bytes.Buffer
	start = time.Now()
	again, err := client.InstallArgoCD(ctx, config.ClientConfig{SidecarURL: base, APIToken: testToken}, "fab-1", body, &out)
	require.NoError(t, err, "%s", out.String())
	t.Logf("argocd install, second run: %+v in %s:\n%s", *again.Applied, time.Since(start).Round(time.Millisecond), out.String())
	require.Equal(t, jobs.Applied{Unchanged: j.Objects}, *again.Applied)
	require.Contains(t, out.String(), fmt.Sprintf("%d objects: 0 created, 0 changed, %d unchanged", j.Objects, j.Objects))

	metrics := get(t, base+"/metrics", "")
	b, _ := io.ReadAll(metrics.Body)
	require.Contains(t, string(b), `hnp_argocd_install_runs_total{result="succeeded"} 2`)
}

// gitCredentials is a credentials file for git.example.com: what Argo CD
// gets for that host's repositories.
func gitCredentials(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "git-credentials.yaml")
	require.NoError(t, os.WriteFile(p, []byte("git.example.com: {username: git, token: git-password}\n"), 0o600))
	return p
}
