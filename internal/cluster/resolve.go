// Package cluster answers "which Kubernetes cluster?" for the whole
// sidecar: the default cluster (HNP_KUBECONFIG, else the pod's own service
// account) for the Argo CD driver, drift detection and the Argo CD
// installer, and each fabric's own cluster when NetBox names one (Clusters).
// It is the only place that reads KUBERNETES_SERVICE_HOST.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/githedgehog/hnp-sidecar/internal/health"
)

// ErrNoCluster: neither the fabric (kubernetes_server in NetBox) nor the
// sidecar (HNP_KUBECONFIG, in-cluster) says where the cluster is.
var ErrNoCluster = errors.New("cluster: no cluster configured for the fabric (kubernetes_server in NetBox, or HNP_KUBECONFIG, or a pod's service account)")

// Available reports whether a default cluster is configured: a kubeconfig
// path, or a pod's environment (getenv is os.Getenv in production).
func Available(kubeconfig string, getenv func(string) string) bool {
	return kubeconfig != "" || getenv("KUBERNETES_SERVICE_HOST") != ""
}

// Default is the default cluster's configuration: the kubeconfig at path,
// else the pod's service account; ErrNoCluster when neither is there.
func Default(path string, getenv func(string) string) (*rest.Config, error) {
	switch {
	case path != "":
		rc, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("cluster: HNP_KUBECONFIG=%s: %w", path, err)
		}
		return rc, nil
	case getenv("KUBERNETES_SERVICE_HOST") != "":
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("cluster: the pod's service account: %w", err)
		}
		return rc, nil
	}
	return nil, ErrNoCluster
}

// Health asks the API server's /readyz.
func Health(ctx context.Context, rc *rest.Config) health.Report {
	hc, err := rest.HTTPClientFor(rc)
	if err == nil {
		var req *http.Request
		if req, err = http.NewRequestWithContext(ctx, http.MethodGet, rc.Host+"/readyz", nil); err == nil {
			var resp *http.Response
			if resp, err = hc.Do(req); err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("readyz: HTTP %d", resp.StatusCode)
				}
			}
		}
	}
	now := time.Now()
	if err != nil {
		return health.Report{Status: health.Down, LastError: &now, Error: err.Error(), Details: map[string]any{"server": rc.Host}}
	}
	return health.Report{Status: health.OK, LastSuccess: &now, Details: map[string]any{"server": rc.Host}}
}
