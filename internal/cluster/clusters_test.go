package cluster

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// Every fabric in NetBox may name its own server and token: the cache
// keeps at most maxClients, the most recently used.
func TestClientCacheIsBounded(t *testing.T) {
	c := NewClusters(nil, nil)
	fabric := func(i int) netbox.Fabric {
		return netbox.Fabric{KubernetesServer: fmt.Sprintf("https://10.0.%d.%d:6443", i/256, i%256), KubernetesToken: "t"}
	}
	first, _, err := c.For(fabric(0))
	require.NoError(t, err)
	for i := 1; i < 3*maxClients; i++ {
		_, _, err := c.For(fabric(i))
		require.NoError(t, err)
		if i%2 == 0 {
			again, _, err := c.For(fabric(0)) // kept in use: never the oldest
			require.NoError(t, err)
			require.Same(t, first, again)
		}
	}
	require.Len(t, c.cache, maxClients)
	_, _, err = c.For(netbox.Fabric{})
	require.ErrorIs(t, err, ErrNoCluster)
}
