package gitops

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

// Files reads back what another writer pushed: it fetches first.
func TestFilesReadsTheRemoteTip(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "read", "main")
	w, reader := newWriter(t, srv, srv.Password), newWriter(t, srv, srv.Password)
	ctx := context.Background()

	tip, files, err := reader.Files(ctx, url, "main", "f/managed")
	require.NoError(t, err)
	require.Empty(t, tip, "empty repository")
	require.Empty(t, files)

	res, err := w.Apply(ctx, Batch{URL: url, Branch: "main", Message: "m", Changes: []Change{
		{Path: "f/managed/vpcs/vpc-1.yaml", Content: []byte("kind: VPC\n")},
		{Path: "f/managed/switches/s1.yaml", Content: []byte("kind: Switch\n")},
		{Path: "f/.hnp/manifest.yaml", Content: []byte("layout: 1\n")},
	}})
	require.NoError(t, err)
	tip, files, err = reader.Files(ctx, url, "main", "/f/managed/")
	require.NoError(t, err)
	require.Equal(t, res.Commit, tip)
	require.Equal(t, map[string][]byte{"f/managed/vpcs/vpc-1.yaml": []byte("kind: VPC\n"),
		"f/managed/switches/s1.yaml": []byte("kind: Switch\n")}, files)

	tip, files, err = reader.Files(ctx, url, "main", "other")
	require.NoError(t, err)
	require.Equal(t, res.Commit, tip)
	require.Empty(t, files, "a missing directory has no files")

	_, _, err = reader.Files(ctx, srv.AuthURL(url)+"x", "main", "")
	require.Error(t, err)
}
