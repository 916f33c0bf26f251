package app

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/config"
)

// HNP_ARGOCD_INSECURE_TLS is warned about when the REST driver starts; the
// syncer gets the AppProject (the default URL's host) and the naming policy.
func TestArgoStartWarnsAndBounds(t *testing.T) {
	cfg, err := config.LoadConfig(env(map[string]string{"HNP_REDIS_URL": "redis://127.0.0.1:1/0",
		"HNP_WEBHOOK_SECRET": testSecret, "HNP_API_TOKEN": testToken, "HNP_ARGOCD_URL": "https://argocd.example.com",
		"HNP_ARGOCD_TOKEN": "t", "HNP_ARGOCD_INSECURE_TLS": "true", "HNP_GIT_DEFAULT_URL": "https://git.example.com/org/fab.git"}))
	require.NoError(t, err)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	breakers, err := newBreakers(cfg, logger, prometheus.NewRegistry())
	require.NoError(t, err)
	parts, err := newArgo(cfg, nil, nil, breakers, nil, logger, nil, nil, nil, newPlaces(cfg, nil, newClusters(cfg, breakers, logger)))
	require.NoError(t, err)
	require.Contains(t, logs.String(), `"level":"WARN","msg":"HNP_ARGOCD_INSECURE_TLS=true`)
	n := parts.syncer.Naming()
	require.Equal(t, "argocd", n.Namespace)
	require.Equal(t, []string{"default"}, n.Destinations)
	p := argoProject(cfg, logger)
	require.Equal(t, argocd.Project{Name: "hnp-sidecar", Namespace: "argocd", SourceRepos: []string{"git.example.com:**", "git@git.example.com:**", "https://git.example.com/**", "ssh://git.example.com/**", "ssh://git@git.example.com/**"},
		Destinations: []argocd.Destination{{Server: "https://kubernetes.default.svc", Namespace: "default"}}}, p)
}
