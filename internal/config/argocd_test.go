package config

import (
	"testing"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/argocd/install"
	"github.com/stretchr/testify/require"
)

func TestArgoConfig(t *testing.T) {
	const none, inPod = false, true // whether a cluster is configured (cluster.Available)
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		cluster bool
		driver  string
		err     string
	}{
		{"nothing set", nil, none, DriverOff, ""},
		{"in a pod", nil, inPod, DriverKubernetes, ""},
		{"kubeconfig", map[string]string{"HNP_KUBECONFIG": "/k"}, inPod, DriverKubernetes, ""},
		{"rest", map[string]string{"HNP_ARGOCD_URL": "https://argocd", "HNP_ARGOCD_TOKEN": "t"}, inPod, DriverREST, ""},
		{"rest without token", map[string]string{"HNP_ARGOCD_URL": "https://argocd"}, none, "", "HNP_ARGOCD_URL needs HNP_ARGOCD_TOKEN"},
		{"forced rest without url", map[string]string{"HNP_ARGOCD_DRIVER": "rest"}, none, "", "HNP_ARGOCD_DRIVER=rest needs HNP_ARGOCD_URL"},
		{"off wins", map[string]string{"HNP_ARGOCD_DRIVER": "off", "HNP_KUBECONFIG": "/k"}, inPod, DriverOff, ""},
		{"bad driver", map[string]string{"HNP_ARGOCD_DRIVER": "flux"}, none, "", "HNP_ARGOCD_DRIVER"},
		{"bad timeout", map[string]string{"HNP_ARGOCD_SYNC_TIMEOUT": "10ms"}, none, "", "HNP_ARGOCD_SYNC_TIMEOUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := minimal()
			for k, v := range tc.vars {
				vars[k] = v
			}
			cfg, err := LoadConfig(env(vars))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.driver, cfg.Argo.ResolveDriver(tc.cluster))
		})
	}
}

func TestInstallConfig(t *testing.T) {
	base := map[string]string{"HNP_REDIS_URL": "redis://127.0.0.1:1/0", "HNP_WEBHOOK_SECRET": "webhook-secret-16+", "HNP_API_TOKEN": "0123456789abcdef"}
	c, err := LoadConfig(env(base))
	require.NoError(t, err)
	require.Equal(t, install.DefaultManifest, c.Argo.InstallManifest)
	require.Equal(t, 10*time.Minute, c.Argo.InstallTimeout)
	base["HNP_ARGOCD_INSTALL_TIMEOUT"], base["HNP_ARGOCD_INSTALL_MANIFEST"] = "1ms", "ftp://x"
	_, err = LoadConfig(env(base))
	require.ErrorContains(t, err, "HNP_ARGOCD_INSTALL_TIMEOUT")
	require.ErrorContains(t, err, "HNP_ARGOCD_INSTALL_MANIFEST")
}

func TestArgoBounds(t *testing.T) {
	vars := minimal()
	cfg, err := LoadConfig(env(vars))
	require.NoError(t, err)
	require.Equal(t, "hnp-sidecar", cfg.Argo.Project)
	require.Equal(t, `^(hnp|hedgehog)-[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, cfg.Argo.AppNamePattern.String())
	require.Equal(t, []string{"default"}, cfg.Argo.Destinations())

	vars["HNP_ARGOCD_APP_NAME_PATTERN"] = "fab-.*"
	_, err = LoadConfig(env(vars))
	require.ErrorContains(t, err, "HNP_ARGOCD_APP_NAME_PATTERN")
	require.ErrorContains(t, err, "anchored")

	vars["HNP_ARGOCD_APP_NAME_PATTERN"] = "^fab-[0-9]+$"
	vars["HNP_ARGOCD_DESTINATION_NAMESPACES"] = " fab-a, fab-b ,"
	vars["HNP_ARGOCD_INSECURE_TLS"] = "true"
	cfg, err = LoadConfig(env(vars))
	require.NoError(t, err)
	require.True(t, cfg.Argo.AppNamePattern.MatchString("fab-12"))
	require.Equal(t, []string{"fab-a", "fab-b"}, cfg.Argo.Destinations())
	shown := cfg.Argo.LogValue().String()
	require.Contains(t, shown, "insecure_tls=true")
	require.Contains(t, cfg.LogValue().String(), "argocd=[driver=", "the start-up configuration shows the Argo CD group")
	require.Contains(t, cfg.LogValue().String(), "insecure_tls=true")
	require.Contains(t, shown, "app_name_pattern=^fab-[0-9]+$")
}
