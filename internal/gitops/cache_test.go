package gitops

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
)

// At start the cache adopts (and, idle, removes) only what the writer
// makes: a bare repository under a cloneName. Anything else in the work
// directory is left alone (before: every subdirectory was adopted and
// removed).
func TestCacheAdoptsOnlyItsClones(t *testing.T) {
	dir := t.TempDir()
	bare := func(t *testing.T, d string) {
		_, err := git.PlainInit(d, true)
		require.NoError(t, err)
	}
	clone := cloneName(gitaccess.Remote{Scheme: "https", Host: "git.example.com", Path: "/fleet.git"}, "main")
	cases := []struct {
		name  string
		setup func(t *testing.T, d string)
		adopt bool
	}{
		{clone, bare, true},
		{"0123456789abcdef", bare, true},
		{"notes", func(t *testing.T, d string) { require.NoError(t, os.MkdirAll(filepath.Join(d, "x"), 0o755)) }, false},
		{"fedcba9876543210", func(t *testing.T, d string) { // a clone's name, not a repository
			require.NoError(t, os.MkdirAll(d, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(d, "precious"), []byte("x"), 0o600))
		}, false},
		{"0123456789ABCDEF", bare, false},
		{"0123456789abcde", bare, false},
		{"0123456789abcdef0", bare, false},
		{".0123456789abcde", bare, false},
		{"aaaaaaaaaaaaaaaa", func(t *testing.T, d string) { // a link to a repository elsewhere
			other := filepath.Join(t.TempDir(), "r.git")
			bare(t, other)
			require.NoError(t, os.Symlink(other, d))
		}, false},
		{"bbbbbbbbbbbbbbbb", func(t *testing.T, d string) { // HEAD a link
			bare(t, d)
			require.NoError(t, os.Remove(filepath.Join(d, "HEAD")))
			require.NoError(t, os.Symlink("/etc/hostname", filepath.Join(d, "HEAD")))
		}, false},
		{"cccccccccccccccc", func(t *testing.T, d string) { require.NoError(t, os.WriteFile(d, []byte("x"), 0o600)) }, false},
	}
	for _, tc := range cases {
		tc.setup(t, filepath.Join(dir, tc.name))
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := newClones(dir, 10, time.Hour, time.Now, logger)
	require.Equal(t, 2, c.len(), "the two clones adopted")
	c = newClones(dir, 10, time.Hour, func() time.Time { return time.Now().Add(48 * time.Hour) }, logger)
	require.Zero(t, c.len())
	for _, tc := range cases {
		_, err := os.Lstat(filepath.Join(dir, tc.name))
		if tc.adopt {
			require.ErrorIs(t, err, os.ErrNotExist, "%s: an idle clone is removed", tc.name)
		} else {
			require.NoError(t, err, "%s: not a clone, yet removed", tc.name)
		}
	}
	require.FileExists(t, filepath.Join(dir, "fedcba9876543210", "precious"))
}
