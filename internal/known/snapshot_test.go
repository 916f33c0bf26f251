package known

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func TestSnapshotLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("needs redis-server")
	}
	ctx := context.Background()
	rdb := redisenv.Start(t).Client(t)
	a, b := New(rdb, "t"), New(rdb, "t") // two replicas

	_, ok, err := a.Load(ctx, 1)
	require.NoError(t, err)
	require.False(t, ok, "never written")

	vpc := Entry{Kind: "VPC", ID: 7, Name: "vpc-1", Spec: map[string]any{"x": "y"}, LastUpdated: "2026-01-01T00:00:00Z"}
	require.NoError(t, a.Replace(ctx, 1, nil, "fp1", "c1", []Entry{vpc}))
	f, ok, err := b.Load(ctx, 1)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "fp1", f.Fingerprint)
	require.Equal(t, "c1", f.Tip)
	require.Equal(t, vpc, f.Entries["VPC:7"])

	// b writes; a's in-memory copy is older and not used.
	sw := Entry{Kind: "Switch", ID: 3, Name: "s1"}
	require.NoError(t, b.Update(ctx, 1, nil, f, "c2", &sw, "VPC:7", nil))
	fa, ok, err := a.Load(ctx, 1)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "c2", fa.Tip)
	require.Equal(t, map[string]Entry{"Switch:3": sw}, fa.Entries)

	// An update from a view loaded before another write is refused.
	require.ErrorIs(t, a.Update(ctx, 1, nil, f, "c3", nil, "Switch:3", nil), ErrStale)

	// Fenced: the lease key holds another replica's value.
	require.NoError(t, rdb.Set(ctx, "{t}:lease:1", "9|other", 0).Err())
	fence := &Fence{Key: "{t}:lease:1", Value: "8|me"}
	require.ErrorIs(t, a.Update(ctx, 1, fence, fa, "c3", nil, "Switch:3", nil), ErrFenced)
	require.ErrorIs(t, a.Replace(ctx, 1, fence, "fp", "c3", nil), ErrFenced)
	require.NoError(t, a.Update(ctx, 1, &Fence{Key: "{t}:lease:1", Value: "9|other"}, fa, "c3", nil, "Switch:3", nil))

	// b caches the current generation; a drops and writes the snapshot
	// anew as often as b's copy is old: the generation never goes back,
	// so b's copy never matches again (found in review: Drop reset it).
	fb, ok, err := b.Load(ctx, 1)
	require.NoError(t, err)
	require.True(t, ok)
	require.ErrorIs(t, a.Drop(ctx, 1, fence), ErrFenced)
	require.NoError(t, a.Drop(ctx, 1, nil))
	_, ok, err = b.Load(ctx, 1)
	require.NoError(t, err)
	require.False(t, ok, "dropped")
	require.NoError(t, a.Replace(ctx, 1, nil, "fp2", "c9", []Entry{vpc}))
	fa, ok, err = a.Load(ctx, 1)
	require.NoError(t, err)
	require.True(t, ok)
	require.Greater(t, fa.Gen, fb.Gen)
	require.NoError(t, b.Update(ctx, 1, nil, fa, "c10", nil, "VPC:7", nil))
	fb2, ok, err := b.Load(ctx, 1)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "c10", fb2.Tip)
	require.Empty(t, fb2.Entries)

	require.NoError(t, a.Forget(ctx, 1))
	_, ok, err = b.Load(ctx, 1)
	require.NoError(t, err)
	require.False(t, ok)
}
