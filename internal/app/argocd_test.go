package app

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestArgoConfig(t *testing.T) {
	none := func(string) string { return "" }
	inPod := func(k string) string {
		if k == "KUBERNETES_SERVICE_HOST" {
			return "10.0.0.1"
		}
		return ""
	}
	for _, tc := range []struct {
		name   string
		vars   map[string]string
		getenv func(string) string
		driver string
		err    string
	}{
		{"nothing set", nil, none, DriverOff, ""},
		{"in a pod", nil, inPod, DriverKubernetes, ""},
		{"kubeconfig", map[string]string{"HNP_KUBECONFIG": "/k"}, none, DriverKubernetes, ""},
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
			require.Equal(t, tc.driver, cfg.Argo.driver(tc.getenv))
		})
	}
}
