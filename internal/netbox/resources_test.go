package netbox

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	netboxenv "github.com/githedgehog/hnp-sidecar/internal/testenv/netbox"
)

// gitops-resources/ through the real NetBox and the stand-in plugin:
// create with a link to the object, list by fabric over pages, patch,
// delete (twice: the second is no error); the restricted user too.
func TestResourcesAgainstRealNetBox(t *testing.T) {
	env := netboxenv.Get(t)
	ctx := context.Background()
	watch := []string{"VPC"}
	for _, tc := range []struct{ name, token string }{{"superuser", env.Token}, {"restricted", env.TokenRestricted}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Options{URL: env.URL, Token: tc.token, PageSize: 3})
			require.NoError(t, err)
			var a, b Fabric
			require.NoError(t, c.Do(ctx, http.MethodPost, PluginPath+"fabrics/", map[string]any{"name": "hr-a-" + tc.name, "watch_crd_types": watch}, &a))
			require.NoError(t, c.Do(ctx, http.MethodPost, PluginPath+"fabrics/", map[string]any{"name": "hr-b-" + tc.name, "watch_crd_types": watch}, &b))
			var vpc Object
			require.NoError(t, c.Do(ctx, http.MethodPost, PluginPath+"vpcs/", map[string]any{"fabric": a.ID, "name": "vpc-hr",
				"spec": map[string]any{"subnets": map[string]any{}}}, &vpc))
			types, err := c.ObjectTypeIDs(ctx)
			require.NoError(t, err)
			require.NotZero(t, types["vpc"])
			require.NotZero(t, types["hedgehogresource"])

			for i := range 7 {
				for _, f := range []Fabric{a, b} {
					fields := map[string]any{"fabric": f.ID, "name": fmt.Sprintf("vpc-%d", i), "kind": "VPC", "resource_state": "committed"}
					if i == 0 && f.ID == a.ID {
						fields["content_type"], fields["object_id"] = types["vpc"], vpc.ID
					}
					_, err := c.CreateResource(ctx, fields)
					require.NoError(t, err)
				}
			}
			list, err := c.ListResources(ctx, a.ID) // pages of 3 over 7
			require.NoError(t, err)
			require.Len(t, list, 7)
			var first Resource
			for _, r := range list {
				require.Equal(t, Ref(a.ID), r.Fabric)
				if r.Name == "vpc-0" {
					first = r
				}
			}
			require.Equal(t, Ref(types["vpc"]), first.ContentType)
			require.Equal(t, vpc.ID, *first.ObjectID)
			require.NotEmpty(t, first.LastStateChange)

			require.NoError(t, c.PatchResource(ctx, first.ID, map[string]any{"resource_state": "synced", "drift_status": "in_sync",
				"last_state_change": "2001-01-01T00:00:00Z"}))
			_, err = c.CreateResource(ctx, map[string]any{"fabric": a.ID, "name": "vpc-0", "kind": "VPC"})
			require.True(t, Refused(err), "a duplicate is a refusal: %v", err)
			require.Contains(t, err.Error(), "unique")
			err = c.PatchResource(ctx, first.ID, map[string]any{"drift_status": "drift_detected"})
			require.True(t, Refused(err), "the fabric's drift choice is refused: %v", err)
			list, err = c.ListResources(ctx, a.ID)
			require.NoError(t, err)
			for _, r := range list {
				if r.ID == first.ID {
					require.Equal(t, "synced", r.ResourceState)
					require.Equal(t, first.LastStateChange, r.LastStateChange, "read-only")
				}
			}
			require.NoError(t, c.DeleteResource(ctx, first.ID))
			require.NoError(t, c.DeleteResource(ctx, first.ID), "already gone")
			err = c.PatchResource(ctx, first.ID, map[string]any{"resource_state": "synced"})
			require.ErrorIs(t, err, ErrNotFound)
		})
	}
}

// A plugin without gitops-resources/ answers 404 on the list.
func TestResourcesMissingEndpoint(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c, err := New(Options{URL: srv.URL, Token: "0123456789abcdef0123456789abcdef01234567"})
	require.NoError(t, err)
	_, err = c.ListResources(context.Background(), 1)
	require.ErrorIs(t, err, ErrNotFound)
}
