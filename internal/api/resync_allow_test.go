package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
)

// `resync --allow-deletes` is a sync request with allow_deletes=true: its
// hint says so, also when it joins a re-sync already queued.
func TestSyncAllowDeletesMarksTheHint(t *testing.T) {
	r := startRig(t, config.APIConfig{RateLimit: 1000, RateBurst: 1000})
	sidecar := "Bearer " + sidecarToken
	base := fmt.Sprintf("/api/v1/fabrics/%d/sync", r.fabric)
	code, body := r.do(http.MethodPost, base+"?allow_deletes=perhaps", sidecar)
	require.Equal(t, http.StatusBadRequest, code, string(body))

	code, body = r.do(http.MethodPost, base, sidecar)
	require.Equal(t, http.StatusAccepted, code, string(body))
	var first, second api.SyncResponse
	require.NoError(t, json.Unmarshal(body, &first))
	code, body = r.do(http.MethodPost, base+"?"+api.AllowDeletesParam+"=true", sidecar)
	require.Equal(t, http.StatusAccepted, code, string(body))
	require.NoError(t, json.Unmarshal(body, &second))
	require.Equal(t, first.Job.ID, second.Job.ID, "joins the queued re-sync")

	raw, err := r.redis.Client(t).LRange(context.Background(),
		fmt.Sprintf("{hnp}:q:hints:netbox_hedgehog.hedgehogfabric:%d", r.fabric), 0, -1).Result()
	require.NoError(t, err)
	var events []string
	for _, s := range raw {
		var h queue.Hint
		require.NoError(t, json.Unmarshal([]byte(s), &h))
		require.Equal(t, reconcile.JobPrefix+first.Job.ID, h.RequestID)
		events = append(events, h.Event)
	}
	require.Equal(t, []string{reconcile.EventResync, reconcile.EventResyncAllowDeletes}, events)
}
