package webhook

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// The sidecar writes the plugin's HedgehogResources (one per object, its
// six-state value). NetBox sends a webhook for each write when an event
// rule covers that model (bootstrap's does not; an operator's catch-all
// rule may): it is ignored, never a reconcile.
func TestOwnHedgehogResourceWritesAreIgnored(t *testing.T) {
	_, ok := kind.Lookup("netbox_hedgehog.hedgehogresource")
	require.False(t, ok)
	for name, body := range map[string][]byte{
		"4.4+ object_type": []byte(`{"event":"updated","object_type":"netbox_hedgehog.hedgehogresource","username":"hnp-sidecar",` +
			`"data":{"id":7,"fabric":1,"name":"vpc-1","kind":"VPC","resource_state":"synced"}}`),
		"4.0-4.3 model": []byte(`{"event":"created","model":"hedgehogresource","username":"hnp-sidecar","data":{"id":7,"fabric":1}}`),
		"deleted":       []byte(`{"event":"deleted","object_type":"netbox_hedgehog.hedgehogresource","data":{"id":7,"fabric":1}}`),
	} {
		t.Run(name, func(t *testing.T) {
			q := &fakeQueue{}
			e, _ := newTestReceiver(t, q, secret)
			rec, resp := post(e, body, Sign(secret, body))
			require.Equal(t, 202, rec.Code, rec.Body.String())
			require.Empty(t, q.hints, "no reconcile")
			require.Contains(t, resp.Ignored, "hedgehogresource")
		})
	}
}
