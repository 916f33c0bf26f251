package chart

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// trust checks the full value set's known_hosts and CA bundles: one
// ConfigMap holding them, mounted read-only where the variables the
// chart sets point, and the SSH key's passphrase from the Secret; the
// defaults have none of it.
func trust(t *testing.T, sets map[string][]*unstructured.Unstructured) {
	t.Helper()
	find := func(set, kind, name string) *unstructured.Unstructured {
		for _, o := range sets[set] {
			if o.GetKind() == kind && (name == "" || o.GetName() == name) {
				return o
			}
		}
		return nil
	}
	cm := find("full", "ConfigMap", "hnp-full-hnp-sidecar-trust")
	require.NotNil(t, cm, "the full set has the trust ConfigMap")
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	require.Contains(t, data["known_hosts"], "git.example.com ssh-ed25519 ")
	require.Contains(t, data["git-ca.pem"], "BEGIN CERTIFICATE")
	require.Contains(t, data["netbox-ca.pem"], "BEGIN CERTIFICATE")

	cfg, _, _ := unstructured.NestedStringMap(find("full", "ConfigMap", "hnp-full-hnp-sidecar").Object, "data")
	require.Equal(t, "/etc/hnp-sidecar/trust/known_hosts", cfg["HNP_GIT_SSH_KNOWN_HOSTS"])
	require.Equal(t, "/etc/hnp-sidecar/trust/git-ca.pem", cfg["HNP_GIT_CA_FILE"])
	require.Equal(t, "/etc/hnp-sidecar/trust/netbox-ca.pem", cfg["HNP_NETBOX_CA_FILE"])

	dep := find("full", "Deployment", "")
	spec := fmt.Sprint(dep.Object["spec"])
	require.Contains(t, spec, "mountPath:/etc/hnp-sidecar/trust")
	require.Contains(t, spec, "name:hnp-full-hnp-sidecar-trust")
	require.Contains(t, spec, "key:git-ssh-key-passphrase")

	require.Nil(t, find("defaults", "ConfigMap", "hnp-sidecar-trust"), "no trust ConfigMap by default")
	def, _, _ := unstructured.NestedStringMap(find("defaults", "ConfigMap", "hnp-sidecar").Object, "data")
	require.NotContains(t, def, "HNP_GIT_SSH_KNOWN_HOSTS")
}
