package netbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/webhooks"
)

func TestLegacyEventsForNetBox40(t *testing.T) {
	for v, want := range map[string]bool{"4.0.11": true, "4.0": true, "4.1.0": false, "4.7.3": false, "3.7.8": false} {
		require.Equal(t, want, legacyEvents(v), v)
	}
}

// NetBox 4.0's event-rules endpoint, as far as the sidecar uses it: the
// rule is created with type_create/type_update/type_delete, found
// unchanged the second time, and brought back in line when changed.
func TestEventRuleInNetBox40Shape(t *testing.T) {
	var mu sync.Mutex
	var stored []map[string]any
	var writes []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			require.Equal(t, "hnp-sidecar: hedgehog objects", r.URL.Query().Get("name"))
			_ = json.NewEncoder(w).Encode(map[string]any{"results": stored})
		case http.MethodPost, http.MethodPatch:
			var body map[string]any
			require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
			require.NotContains(t, body, "event_types", "NetBox 4.0 has no event_types")
			writes = append(writes, body)
			body["id"] = float64(9)
			body["action_type"] = map[string]any{"value": body["action_type"], "label": "Webhook"}
			stored = []map[string]any{body}
			_ = json.NewEncoder(w).Encode(body)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{URL: srv.URL, Token: "0123456789abcdef0123456789abcdef01234567"})
	require.NoError(t, err)
	defs, err := webhooks.Load()
	require.NoError(t, err)
	rule := defs.EventRules[0]
	ctx := context.Background()

	id, act, err := c.ensureEventRule40(ctx, rule, 3)
	require.NoError(t, err)
	require.Equal(t, Created, act)
	require.EqualValues(t, 9, id)
	require.Equal(t, true, writes[0]["type_create"])
	require.Equal(t, true, writes[0]["type_update"])
	require.Equal(t, true, writes[0]["type_delete"])
	require.EqualValues(t, 3, writes[0]["action_object_id"])

	_, act, err = c.ensureEventRule40(ctx, rule, 3)
	require.NoError(t, err)
	require.Equal(t, Unchanged, act)

	mu.Lock()
	stored[0]["type_delete"] = false // someone unticked "deletions"
	mu.Unlock()
	_, act, err = c.ensureEventRule40(ctx, rule, 3)
	require.NoError(t, err)
	require.Equal(t, Updated, act)
	require.Equal(t, true, writes[len(writes)-1]["type_delete"])

	rule.EventTypes = append(rule.EventTypes, "job_started")
	_, _, err = c.ensureEventRule40(ctx, rule, 3)
	require.ErrorContains(t, err, `NetBox 4.0 has no event type "job_started"`)
}
