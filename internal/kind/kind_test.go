package kind

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"netbox_hedgehog.vpc", "VPC", true},
		{"vpc", "VPC", true},
		{"NETBOX_HEDGEHOG.VPCAttachment", "VPCAttachment", true},
		{"netbox_hedgehog.hedgehogfabric", "Fabric", true},
		{"hedgehogfabric", "Fabric", true},
		{"netbox_hedgehog.switchgroup", "SwitchGroup", true},
		{"dcim.device", "", false},
		{"dcim.switch", "", false},
		{"device", "", false},
		{"", "", false},
		{"netbox_hedgehog.", "", false},
		{"netbox_hedgehog.gitrepository", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			k, ok := Lookup(tt.in)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, k.Name)
		})
	}
}

func TestTable(t *testing.T) {
	crs := CRs()
	require.Len(t, crs, 12)
	seen := map[string]bool{}
	prevWave := -100
	for _, k := range crs {
		require.False(t, seen[k.Model], "duplicate model %s", k.Model)
		seen[k.Model] = true
		require.NotEmpty(t, k.APIVersion)
		require.Equal(t, k.Plural, k.Model+pluralSuffix(k.Model), "plural of %s", k.Name)
		require.GreaterOrEqual(t, k.SyncWave, prevWave, "sync-wave order")
		prevWave = k.SyncWave
		require.Equal(t, "netbox_hedgehog."+k.Model, k.ObjectType())
		require.False(t, k.IsFabric())
	}
	require.True(t, Fabric.IsFabric())
	require.Len(t, All(), 13)
}

func pluralSuffix(model string) string {
	if model == "switch" {
		return "es"
	}
	return "s"
}

func TestNamed(t *testing.T) {
	k, ok := Named("VPCAttachment")
	require.True(t, ok)
	require.Equal(t, "vpcattachments", k.Plural)
	_, ok = Named("vpc")
	require.False(t, ok)
}
