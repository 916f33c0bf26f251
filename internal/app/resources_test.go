package app

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/client"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func TestResourcesAPI(t *testing.T) {
	srv := redisenv.Start(t)
	ta := startApp(t, srv, nil)
	ctx := context.Background()
	for i := range 5 {
		k := state.Key{Fabric: 7, Kind: "VPC", Namespace: "default", Name: fmt.Sprintf("vpc-%d", i)}
		require.NoError(t, ta.stores.states.Move(ctx, state.Change{Key: k, To: state.Draft, FabricName: "fab-7", NetBoxID: int64(i + 1)}))
		if i%2 == 0 {
			require.NoError(t, ta.stores.states.Move(ctx, state.Change{Key: k, To: state.Committed, Commit: "abc123", Committed: true}))
		}
	}
	require.NoError(t, ta.stores.states.Move(ctx, state.Change{Key: state.Key{Fabric: 8, Kind: "Switch", Namespace: "default", Name: "s1"}, To: state.Committed}))

	var page api.ResourcesPage
	decode(t, get(t, ta.url+"/api/v1/resources", testToken), &page)
	require.Equal(t, 6, page.Count)
	decode(t, get(t, ta.url+"/api/v1/resources?fabric=fab-7&state=committed", testToken), &page)
	require.Equal(t, 3, page.Count)
	require.Equal(t, "vpc-0", page.Results[0].Name)
	decode(t, get(t, ta.url+"/api/v1/resources?fabric=7&kind=vpcs&limit=2&offset=4", testToken), &page)
	require.Equal(t, 5, page.Count)
	require.Len(t, page.Results, 1)
	decode(t, get(t, ta.url+"/api/v1/resources?kind=switch", testToken), &page)
	require.Equal(t, 1, page.Count)
	decode(t, get(t, ta.url+"/api/v1/resources?fabric=no-such-fabric", testToken), &page)
	require.Zero(t, page.Count)

	for _, q := range []string{"state=lost", "kind=Pod", "limit=0", "limit=5000", "offset=-1"} {
		require.Equal(t, http.StatusBadRequest, get(t, ta.url+"/api/v1/resources?"+q, testToken).StatusCode, q)
	}
	require.Equal(t, http.StatusUnauthorized, get(t, ta.url+"/api/v1/resources", "").StatusCode)

	var r state.Record
	decode(t, get(t, ta.url+"/api/v1/resources/fab-7/VPC/default/vpc-2", testToken), &r)
	require.Equal(t, state.Committed, r.State)
	require.Equal(t, "abc123", r.Commit)
	require.Len(t, r.History, 2)
	require.Equal(t, state.CommitToGit, r.History[0].Trigger)
	require.Equal(t, http.StatusNotFound, get(t, ta.url+"/api/v1/resources/fab-7/VPC/default/nope", testToken).StatusCode)
	require.Equal(t, http.StatusNotFound, get(t, ta.url+"/api/v1/resources/nofab/VPC/default/vpc-2", testToken).StatusCode)

	var h api.HealthResponse
	decode(t, get(t, ta.url+"/api/v1/health", testToken), &h)
	sm := h.Components["state_management"]
	require.Equal(t, "ok", string(sm.Status))
	require.NotNil(t, sm.LastSuccess)
	require.EqualValues(t, 0, sm.Details["illegal_transitions"])

	// The CLI reads the same API.
	cfg := config.ClientConfig{SidecarURL: ta.url, APIToken: testToken}
	var out syncBuffer
	require.NoError(t, client.StateList(ctx, cfg, "fab-7", "", "draft", false, &out))
	require.Contains(t, out.String(), "vpc-1")
	require.Contains(t, out.String(), "2 objects")
	out = syncBuffer{}
	require.NoError(t, client.StateShow(ctx, cfg, "fab-7", "vpc", "default", "vpc-0", false, &out))
	require.Contains(t, out.String(), "commit_to_git")
	require.Contains(t, out.String(), "- -> draft", "history shows the record's beginning")
}
