package queue

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// Waiting reads other keys' hints: those of a run in flight first, then
// those not handed out yet; a key with none is left out.
func TestWaitingHints(t *testing.T) {
	srv := redisenv.Start(t)
	q := newQueue(t, srv, fastOptions())
	ctx := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	rec := newRecorder(func(_ context.Context, it Item) error {
		if it.Key == hint(7, "", "").Key() {
			close(started)
			<-release
		}
		return nil
	})
	_, err := q.Enqueue(ctx, hint(7, "created", "alice"))
	require.NoError(t, err)
	got, err := q.Waiting(ctx, []Key{hint(7, "", "").Key(), hint(8, "", "").Key()})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "alice", got[hint(7, "", "").Key()][0].User)

	run(t, q, rec)
	<-started // alice's hint is in flight
	_, err = q.Enqueue(ctx, hint(7, "updated", "bob"))
	require.NoError(t, err)
	got, err = q.Waiting(ctx, []Key{hint(7, "", "").Key()})
	require.NoError(t, err)
	hs := got[hint(7, "", "").Key()]
	require.Len(t, hs, 2)
	require.Equal(t, []string{"alice", "bob"}, []string{hs[0].User, hs[1].User})
	close(release)
	waitItem(t, rec)
}
