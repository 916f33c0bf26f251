package webhooks

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

func TestDefinitionsCoverEveryKind(t *testing.T) {
	d, err := Load()
	require.NoError(t, err)
	require.Equal(t, "/webhooks/netbox", d.Webhook.PayloadPath)
	require.Len(t, d.EventRules, 1)
	var want []string
	for _, k := range kind.All() {
		want = append(want, k.ObjectType())
	}
	got := append([]string(nil), d.EventRules[0].ObjectTypes...)
	sort.Strings(want)
	sort.Strings(got)
	require.Equal(t, want, got)
	require.ElementsMatch(t, []string{"object_created", "object_updated", "object_deleted"}, d.EventRules[0].EventTypes)
}
