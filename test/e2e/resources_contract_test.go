package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
)

// The stand-in's gitops-resources/ refuses what the real plugin's
// HedgehogResource refuses (model choices, clean(), unique_together) and
// keeps last_state_change read-only.
func TestStandInHedgehogResourceContract(t *testing.T) {
	env := netboxenv.Get(t)
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-hr-contract", "gitops_directory": "/hr-contract/"})
	t.Cleanup(func() { admin.raw(t, http.MethodDelete, fmt.Sprintf("%sfabrics/%v/", plugin, fab["id"]), nil) })
	good := func(over map[string]any) map[string]any {
		m := map[string]any{"fabric": fab["id"], "name": "vpc-1", "kind": "VPC", "namespace": "default"}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	created, _ := admin.call(t, http.MethodPost, plugin+"gitops-resources/", good(map[string]any{"resource_state": "committed",
		"drift_status": "desired_only", "last_state_change": "2001-01-01T00:00:00Z"}))
	require.Equal(t, "committed", created["resource_state"])
	require.Equal(t, "unknown/v1", created["api_version"])
	require.NotContains(t, created["last_state_change"], "2001", "read-only: NetBox sets it at creation")
	path := fmt.Sprintf("%sgitops-resources/%v/", plugin, created["id"])
	for _, tc := range []struct {
		name, method, path string
		body               map[string]any
		status             int
		answer             string
	}{
		{"duplicate (fabric, namespace, name, kind)", "POST", plugin + "gitops-resources/", good(nil), 500, "violates unique constraint"},
		{"name not DNS-1123", "POST", plugin + "gitops-resources/", good(map[string]any{"name": "Bad_Name"}), 400, "DNS-1123"},
		{"namespace not DNS-1123", "POST", plugin + "gitops-resources/", good(map[string]any{"name": "vpc-2", "namespace": "A"}), 400, "namespace"},
		{"blank kind (DRF trims it first)", "POST", plugin + "gitops-resources/", good(map[string]any{"name": "vpc-3", "kind": " "}), 400, "may not be blank"},
		{"resource_state not a choice", "PATCH", path, map[string]any{"resource_state": "live"}, 400, "not a valid choice"},
		{"the fabric's drift_status choice", "PATCH", path, map[string]any{"drift_status": "drift_detected"}, 400, "not a valid choice"},
		{"drift_score above 1", "PATCH", path, map[string]any{"drift_score": 1.5}, 400, "between 0.0 and 1.0"},
		{"desired_commit over 40", "PATCH", path, map[string]any{"desired_commit": strings.Repeat("a", 41)}, 400, "40 characters"},
		{"fabric as a name", "PATCH", path, map[string]any{"fabric": "e2e-hr-contract"}, 400, "fabric"},
		{"unknown fabric filter", "GET", plugin + "gitops-resources/?fabric=999999", nil, 400, "fabric"},
	} {
		code, body := admin.raw(t, tc.method, tc.path, tc.body)
		require.Equal(t, tc.status, code, "%s: %s", tc.name, body)
		require.Contains(t, body, tc.answer, tc.name)
		t.Logf("%s → %d %s", tc.name, code, body)
	}
	code, body := admin.raw(t, "PATCH", path, map[string]any{"last_state_change": "2001-01-01T00:00:00Z", "resource_state": "synced"})
	require.Equal(t, 200, code, body)
	require.NotContains(t, body, `"last_state_change":"2001`)
	list, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%sgitops-resources/?fabric=%v", plugin, fab["id"]), nil)
	require.EqualValues(t, 1, list["count"])
	admin.call(t, http.MethodDelete, fmt.Sprintf("%sfabrics/%v/", plugin, fab["id"]), nil)
	code, _ = admin.raw(t, "GET", path, nil)
	require.Equal(t, 404, code, "deleted with its fabric (CASCADE)")
}
