package fabric

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSample(t *testing.T) {
	objs := Generate(SampleOptions())
	count := map[string]int{}
	seen := map[string]bool{}
	wave := -10
	for _, o := range objs {
		count[o.Kind.Name]++
		key := o.Kind.Name + "/" + o.Name
		require.False(t, seen[key], "duplicate %s", key)
		seen[key] = true
		require.GreaterOrEqual(t, o.Kind.SyncWave, wave, "objects come in sync-wave order")
		wave = o.Kind.SyncWave
		require.LessOrEqual(t, len(o.Name), 253)
	}
	require.Equal(t, 6, count["Switch"])
	require.Equal(t, 10, count["Server"])
	require.Equal(t, 8+10, count["Connection"]) // 2×4 spine–leaf links, 10 server connections
	require.Equal(t, 2, count["VPC"])
	require.Equal(t, 10, count["VPCAttachment"])
	require.Equal(t, 1, count["VPCPeering"])
	require.Equal(t, 1, count["VLANNamespace"])
	require.Equal(t, 1, count["IPv4Namespace"])
}

func TestForSwitches(t *testing.T) {
	o := ForSwitches(100)
	require.Equal(t, 100, o.Spines+o.Leaves)
	objs := Generate(o)
	require.Greater(t, len(objs), 3000)
}
