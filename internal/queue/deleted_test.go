package queue

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// Delete hints are recorded per fabric, for a day, under the queue's hash
// tag; other events, and deletes with no fabric, are not.
func TestDeleteEvidence(t *testing.T) {
	if testing.Short() {
		t.Skip("needs redis-server")
	}
	srv := redisenv.Start(t)
	q := newQueue(t, srv, fastOptions())
	ctx := context.Background()
	now := time.Now()
	q.now = func() time.Time { return now }

	in := func(fabric int64, h Hint) Hint { h.Fabric = fabric; return h }
	for _, h := range []Hint{
		in(1, hint(11, "deleted", "u")), in(1, hint(12, "deleted", "u")), in(1, hint(13, "updated", "u")),
		in(2, hint(21, "deleted", "u")), hint(31, "deleted", "u"), in(1, hint(11, "deleted", "u")),
	} {
		_, err := q.Enqueue(ctx, h)
		require.NoError(t, err)
	}
	got, err := q.Deleted(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, map[Key]bool{"netbox_hedgehog.vpc:11": true, "netbox_hedgehog.vpc:12": true}, got)
	got, err = q.Deleted(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, map[Key]bool{"netbox_hedgehog.vpc:21": true}, got)
	got, err = q.Deleted(ctx, 3)
	require.NoError(t, err)
	require.Empty(t, got)

	rdb := srv.Client(t)
	keys, err := rdb.Keys(ctx, "*deleted*").Result()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"{t}:q:deleted:1", "{t}:q:deleted:2"}, keys)
	for _, k := range keys {
		require.True(t, strings.HasPrefix(k, q.keys.pfx), "in the queue's slot")
		ttl, err := rdb.PTTL(ctx, k).Result()
		require.NoError(t, err)
		require.InDelta(t, DeleteEvidenceTTL.Seconds(), ttl.Seconds(), 60)
	}

	// A day later the first two are no evidence; a new delete drops them.
	now = now.Add(DeleteEvidenceTTL - time.Minute)
	_, err = q.Enqueue(ctx, in(1, hint(14, "deleted", "u")))
	require.NoError(t, err)
	now = now.Add(2 * time.Minute)
	got, err = q.Deleted(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, map[Key]bool{"netbox_hedgehog.vpc:14": true}, got)
	_, err = q.Enqueue(ctx, in(1, hint(15, "deleted", "u")))
	require.NoError(t, err)
	n, err := rdb.ZCard(ctx, "{t}:q:deleted:1").Result()
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "expired entries removed")
}
