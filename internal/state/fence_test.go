package state

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFencedChangesNeedTheLease(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	lease := "{t}:lease:1"
	require.NoError(t, s.rdb.Set(ctx, lease, "7|a", 0).Err())
	ours := WithFence(ctx, Fence{Fabric: 1, Key: lease, Value: "7|a"})
	require.NoError(t, s.Move(ours, Change{Key: vpc1, To: Committed, Commit: "aaa"}))

	// the lease moves to replica b (token 8): a's late record is refused
	require.NoError(t, s.rdb.Set(ctx, lease, "8|b", 0).Err())
	require.ErrorIs(t, s.Move(ours, Change{Key: vpc1, To: Draft, Commit: "old"}), ErrFenced)
	r, err := s.Get(ctx, vpc1)
	require.NoError(t, err)
	require.Equal(t, Committed, r.State)
	require.Equal(t, "aaa", r.Commit, "nothing recorded by the old holder")

	// another fabric's records are not fenced by fabric 1's lease
	other := Key{Fabric: 2, Kind: "VPC", Namespace: "default", Name: "v"}
	require.NoError(t, s.Move(ours, Change{Key: other, To: Draft}))
	theirs := WithFence(ctx, Fence{Fabric: 1, Key: lease, Value: "8|b"})
	require.NoError(t, s.Move(theirs, Change{Key: vpc1, To: Draft}))
}

func TestForgetFabric(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	require.NoError(t, s.Move(ctx, Change{Key: vpc1, To: Draft, FabricName: "fab"}))
	got, err := s.Fabrics(ctx)
	require.NoError(t, err)
	require.Equal(t, map[int64]string{1: "fab"}, got)
	require.NoError(t, s.ForgetFabric(ctx, 1))
	got, err = s.Fabrics(ctx)
	require.NoError(t, err)
	require.Empty(t, got)
	_, err = s.Get(ctx, vpc1)
	require.NoError(t, err, "the records stay")
}
