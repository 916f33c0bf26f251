package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	argocdenv "github.com/githedgehog/hnp-sidecar/internal/testenv/argocd"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
)

// An Argo CD installation for a fabric that names its own cluster goes
// into that cluster — the sidecar has none of its own here (no
// HNP_KUBECONFIG) — with the Application deploying in-cluster, and NetBox
// shows it on the fabric: argocd_installed, gitops_setup_status ready,
// argocd_health_status healthy.
func TestInstallIntoFabricCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("real NetBox and kube-apiserver")
	}
	manifest := argocdenv.InstallManifest(t)
	cl := clusterenv.StartWith(t, clusterenv.Options{NoHedgehogCRDs: true})
	env, _, repoURL, sc := reconcileSetup(t, "install-own", "HNP_RECONCILE_INTERVAL", "0", "HNP_DRIFT_INTERVAL", "0",
		"HNP_ARGOCD_DRIVER", "off", "HNP_ARGOCD_INSTALL_MANIFEST", manifest)
	s := startSidecar(t, sc)
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-install-own", "gitops_tool": "argocd", "git_repository_url": repoURL,
		"git_branch": "main", "gitops_directory": "/own/", "kubernetes_server": cl.URL, "kubernetes_token": cl.Token,
		"kubernetes_ca_cert": string(cl.CA)})
	require.Equal(t, false, fab["argocd_installed"])

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ready := make(chan error, 1)
	go func() { ready <- cl.MarkWorkloadsReady(ctx, "argocd", 6, 1) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/api/v1/fabrics/%v/argocd/install", s.URL, fab["id"]),
		bytes.NewReader([]byte(`{"wait": "2m"}`)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var started struct {
		Job       jobs.Job `json:"job"`
		StatusURL string   `json:"status_url"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&started))
	_ = resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "%+v\n%s", started, s.Logs)
	begin := time.Now()
	var j jobs.Job
	require.Eventually(t, func() bool {
		sidecarGet(t, s, started.StatusURL, &j)
		return j.State == jobs.Succeeded || j.State == jobs.Failed
	}, 2*time.Minute, 100*time.Millisecond)
	require.NoError(t, <-ready)
	require.Equal(t, jobs.Succeeded, j.State, "%+v\n%s", j, s.Logs)
	t.Logf("installed into the fabric's cluster in %s: %s", time.Since(begin).Round(time.Millisecond), j.Phase)

	dyn, err := cl.Dynamic()
	require.NoError(t, err)
	app, err := dyn.Resource(argocd.ApplicationGVR).Namespace("argocd").Get(ctx, fmt.Sprintf("hnp-%v-e2e-install-own", fab["id"]), metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, argocd.InCluster, getPath(app.Object, "spec", "destination", "server"))

	f, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%sfabrics/%v/", plugin, fab["id"]), nil)
	require.Equal(t, true, f["argocd_installed"], "%v\n%s", f, s.Logs)
	require.Equal(t, "ready", f["gitops_setup_status"])
	require.Equal(t, "healthy", f["argocd_health_status"])
	t.Logf("NetBox's fabric: argocd_installed %v, gitops_setup_status %v, argocd_health_status %v",
		f["argocd_installed"], f["gitops_setup_status"], f["argocd_health_status"])
}
