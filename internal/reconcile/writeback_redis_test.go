package reconcile

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// Versions through real Redis: only a newer last_updated replaces what is
// kept (whatever its rendering), per fabric, with a TTL; the writer of a
// replica that takes a fabric over reads what the previous one wrote.
func TestRedisVersions(t *testing.T) {
	rdb := redisenv.Start(t).Client(t)
	a, b := NewRedisVersions(rdb, "t"), NewRedisVersions(rdb, "t")
	ctx := t.Context()
	k1, k2 := patchKey{"VPC", 1}, patchKey{"VPC", 2}
	require.NoError(t, a.Saw(ctx, 7, map[patchKey]netbox.Object{
		k1: {ID: 1, LastUpdated: lu1, GitFilePath: "p", Name: "not kept"},
		k2: {ID: 2, LastUpdated: "unreadable"}}))
	require.NoError(t, a.Saw(ctx, 7, map[patchKey]netbox.Object{k1: {ID: 1, LastUpdated: "2026-12-07T10:00:00.1+00:00"}}),
		"older, in another rendering")
	got, err := b.Newest(ctx, 7, []patchKey{k1, k2})
	require.NoError(t, err)
	require.Equal(t, map[patchKey]netbox.Object{k1: {ID: 1, LastUpdated: lu1, GitFilePath: "p"}}, got)

	require.NoError(t, b.Saw(ctx, 7, map[patchKey]netbox.Object{k1: {ID: 1, LastUpdated: lu2, KubernetesStatus: "live"}}))
	got, err = a.Newest(ctx, 7, []patchKey{k1})
	require.NoError(t, err)
	require.Equal(t, netbox.Object{ID: 1, LastUpdated: lu2, KubernetesStatus: "live"}, got[k1])

	got, err = a.Newest(ctx, 8, []patchKey{k1})
	require.NoError(t, err)
	require.Empty(t, got, "per fabric")
	ttl, err := rdb.PTTL(ctx, a.key(7)).Result()
	require.NoError(t, err)
	require.InDelta(t, versionTTL.Seconds(), ttl.Seconds(), 5)
	require.Equal(t, "{t}:wb:ver:7", a.key(7))
}
