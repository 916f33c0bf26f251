package gitops

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

// Two writers (two replicas: separate clones) on one bare repository.
func TestSinceRefusesABranchMovedInOwnedPaths(t *testing.T) {
	if testing.Short() {
		t.Skip("needs git http-backend")
	}
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "moved", "main")
	a, b := newWriter(t, srv, srv.Password), newWriter(t, srv, srv.Password)
	ctx := context.Background()
	put := func(w *Writer, p, content, since string, fence func(context.Context) error) (Result, error) {
		return w.Apply(ctx, Batch{URL: url, Branch: "main", Message: "m", Since: since,
			Owned: []string{"f/managed", "f/.hnp"}, Fence: fence,
			Changes: []Change{{Path: p, Content: []byte(content)}}})
	}
	// An empty branch: NoCommit, and another writer creates the fabric.
	tip, _, err := a.Files(ctx, url, "main", "f/managed")
	require.NoError(t, err)
	require.Empty(t, tip)
	_, err = put(b, "f/managed/vpcs/v.yaml", "b1\n", "", nil)
	require.NoError(t, err)
	_, err = put(a, "f/managed/vpcs/v.yaml", "a-old\n", NoCommit, nil)
	require.ErrorIs(t, err, ErrMoved, "the fabric appeared after our snapshot")

	tip, _, err = a.Files(ctx, url, "main", "f/managed")
	require.NoError(t, err)
	// Another fabric's directory moving is not ours: the batch goes on it.
	other, err := put(b, "g/managed/vpcs/x.yaml", "x\n", "", nil)
	require.NoError(t, err)
	res, err := put(a, "f/managed/vpcs/w.yaml", "a1\n", tip, nil)
	require.NoError(t, err)
	require.True(t, res.Committed)
	require.NotEqual(t, other.Commit, res.Commit)

	// b writes this fabric after a's snapshot: a's older view is refused.
	snap := res.Commit
	newer, err := put(b, "f/managed/vpcs/v.yaml", "b2 (newer NetBox read)\n", "", nil)
	require.NoError(t, err)
	_, err = put(a, "f/managed/vpcs/v.yaml", "a2 (older NetBox read)\n", snap, nil)
	require.ErrorIs(t, err, ErrMoved)
	co := checkout(t, srv, url)
	require.Equal(t, "b2 (newer NetBox read)\n", read(t, co, "f/managed/vpcs/v.yaml"))
	require.Equal(t, newer.Commit, gitenv.Git(t, co, "rev-parse", "HEAD"), "nothing pushed")

	// The fence runs before the push; its error aborts with nothing pushed.
	lost := errors.New("lease lost")
	_, err = put(a, "f/managed/vpcs/v.yaml", "a3\n", newer.Commit, func(context.Context) error { return lost })
	require.ErrorIs(t, err, ErrFenced)
	require.ErrorIs(t, err, lost)
	var n interface{ BreakerNeutral() bool }
	require.ErrorAs(t, err, &n)
	co = checkout(t, srv, url)
	require.Equal(t, newer.Commit, gitenv.Git(t, co, "rev-parse", "HEAD"))
	calls := 0
	res, err = put(a, "f/managed/vpcs/v.yaml", "a3\n", newer.Commit, func(context.Context) error { calls++; return nil })
	require.NoError(t, err)
	require.True(t, res.Committed)
	require.Equal(t, 1, calls)
}
