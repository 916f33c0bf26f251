package gitops

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

func newWriter(t *testing.T, srv *gitenv.Server, token string) *Writer {
	t.Helper()
	w, err := New(Options{
		WorkDir:   t.TempDir(),
		Access:    access(t, srv.URL, gitaccess.Credentials{Username: srv.User, Token: token}),
		Committer: Signature{Name: "hnp-sidecar", Email: "hnp-sidecar@example.com"},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return w
}

// access allows the host of base over http, with creds for it.
func access(t *testing.T, base string, creds gitaccess.Credentials) *gitaccess.Policy {
	t.Helper()
	p, err := gitaccess.New(gitaccess.Options{DefaultURL: base + "/default.git", AllowHTTP: true, Default: creds})
	require.NoError(t, err)
	return p
}

// checkout clones url with the git CLI and returns the work tree.
func checkout(t *testing.T, srv *gitenv.Server, url string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "co")
	gitenv.Git(t, "", "clone", "-q", srv.AuthURL(url), dir)
	return dir
}

func read(t *testing.T, dir, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, p))
	require.NoError(t, err)
	return string(b)
}

func TestApplyCommitsOnlyChanges(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "fabric", "main")
	w := newWriter(t, srv, srv.Password)
	ctx := context.Background()
	batch := Batch{URL: url, Branch: "main", Message: "Create VPC vpc-1 (fabric-1)",
		Author: Signature{Name: "alice", Email: "alice@netbox"},
		Changes: []Change{
			{Path: "fabric-1/managed/vpcs/vpc-1.yaml", Content: []byte("kind: VPC\n")},
			{Path: "fabric-1/.hnp/manifest.yaml", Content: []byte("layout: 1\n")},
		}}
	res, err := w.Apply(ctx, batch)
	require.NoError(t, err)
	require.True(t, res.Committed)
	require.Len(t, res.Commit, 40)

	co := checkout(t, srv, url)
	require.Equal(t, "kind: VPC\n", read(t, co, "fabric-1/managed/vpcs/vpc-1.yaml"))
	require.Equal(t, "alice <alice@netbox>|hnp-sidecar <hnp-sidecar@example.com>|Create VPC vpc-1 (fabric-1)",
		gitenv.Git(t, co, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s"))
	require.Equal(t, res.Commit, gitenv.Git(t, co, "rev-parse", "HEAD"))

	again, err := w.Apply(ctx, batch)
	require.NoError(t, err)
	require.False(t, again.Committed, "identical content: no commit")
	require.Equal(t, res.Commit, again.Commit)

	del, err := w.Apply(ctx, Batch{URL: url, Branch: "main", Message: "Delete VPC vpc-1 (fabric-1)",
		Changes: []Change{{Path: "fabric-1/managed/vpcs/vpc-1.yaml"}}})
	require.NoError(t, err)
	require.True(t, del.Committed)
	gitenv.Git(t, co, "pull", "-q")
	_, err = os.Stat(filepath.Join(co, "fabric-1/managed"))
	require.True(t, os.IsNotExist(err), "emptied directories disappear")
	require.Equal(t, "2", gitenv.Git(t, co, "rev-list", "--count", "HEAD"))
}

func TestPushRaceKeepsBothChanges(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "race", "main")
	w := newWriter(t, srv, srv.Password)
	ctx := context.Background()
	_, err := w.Apply(ctx, Batch{URL: url, Branch: "main", Message: "init",
		Changes: []Change{{Path: "f/managed/vpcs/a.yaml", Content: []byte("a\n")}}})
	require.NoError(t, err)

	other := checkout(t, srv, url)
	w.beforePush = func(attempt int) {
		if attempt == 1 { // another writer wins the race to the branch
			require.NoError(t, os.WriteFile(filepath.Join(other, "README.md"), []byte("by hand\n"), 0o644))
			gitenv.Git(t, other, "add", "README.md")
			gitenv.Git(t, other, "commit", "-q", "-m", "by hand")
			gitenv.Git(t, other, "push", "-q")
		}
	}
	res, err := w.Apply(ctx, Batch{URL: url, Branch: "main", Message: "Create VPC b",
		Changes: []Change{{Path: "f/managed/vpcs/b.yaml", Content: []byte("b\n")}}})
	require.NoError(t, err)
	require.True(t, res.Committed)
	require.Equal(t, 2, res.Attempts)

	co := checkout(t, srv, url)
	require.Equal(t, "by hand\n", read(t, co, "README.md"))
	require.Equal(t, "b\n", read(t, co, "f/managed/vpcs/b.yaml"))
	require.Equal(t, "Create VPC b\nby hand\ninit", gitenv.Git(t, co, "log", "--format=%s"))
}

func TestAuthFailureAndHookDeclineAreNotRetried(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "guarded", "main")
	ctx := context.Background()
	batch := Batch{URL: url, Branch: "main", Message: "x", Changes: []Change{{Path: "a", Content: []byte("a")}}}

	res, err := newWriter(t, srv, "wrong-token").Apply(ctx, batch)
	require.ErrorIs(t, err, ErrAuth)
	require.Equal(t, 1, res.Attempts)
	require.NotContains(t, err.Error(), "wrong-token")

	srv.Hook(t, "guarded", "pre-receive", "echo 'branch is frozen' >&2; exit 1")
	res, err = newWriter(t, srv, srv.Password).Apply(ctx, batch)
	require.ErrorIs(t, err, ErrRejected)
	require.Equal(t, 1, res.Attempts)
}

func TestCredentialsNeverStoredInClone(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "secret", "main")
	w := newWriter(t, srv, srv.Password)
	_, err := w.Apply(context.Background(), Batch{URL: url, Branch: "main", Message: "x",
		Changes: []Change{{Path: "a", Content: []byte("a")}}})
	require.NoError(t, err)
	err = filepath.Walk(w.opts.WorkDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.Contains(p, "/objects/") {
			return err
		}
		b, _ := os.ReadFile(p)
		require.NotContains(t, string(b), srv.Password, p)
		return nil
	})
	require.NoError(t, err)
}

func TestBadPathsAreRefused(t *testing.T) {
	w, err := New(Options{WorkDir: t.TempDir(), Access: access(t, "http://127.0.0.1:1", gitaccess.Credentials{})},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	for _, p := range []string{"../x", "/etc/passwd", "a/../../b", "", ".", "a/.git/config", ".git/HEAD"} {
		_, err := w.Apply(context.Background(), Batch{URL: "http://127.0.0.1:1/x.git", Branch: "main",
			Changes: []Change{{Path: p, Content: []byte("x")}}})
		require.ErrorIs(t, err, ErrBadChange, p)
	}
}

func TestReplaceOwnsADirectoryWhole(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "replace", "main")
	w := newWriter(t, srv, srv.Password)
	ctx := context.Background()
	_, err := w.Apply(ctx, Batch{URL: url, Branch: "main", Message: "init", Changes: []Change{
		{Path: "f/managed/vpcs/a.yaml", Content: []byte("a\n")},
		{Path: "f/managed/vpcs/b.yaml", Content: []byte("b\n")},
		{Path: "f/managed/switches/s.yaml", Content: []byte("s\n")},
		{Path: "f/raw/mine.yaml", Content: []byte("user\n")},
	}})
	require.NoError(t, err)
	full := Batch{URL: url, Branch: "main", Message: "Full reconcile", Replace: []string{"f/managed"},
		Changes: []Change{{Path: "f/managed/vpcs/a.yaml", Content: []byte("a\n")}}}
	res, err := w.Apply(ctx, full)
	require.NoError(t, err)
	require.True(t, res.Committed)
	co := checkout(t, srv, url)
	require.Equal(t, "f/managed/vpcs/a.yaml\nf/raw/mine.yaml", gitenv.Git(t, co, "ls-files"))
	res, err = w.Apply(ctx, full)
	require.NoError(t, err)
	require.False(t, res.Committed, "a full reconcile with nothing to change commits nothing")
}

func TestKeepSurvivesReplace(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "keep", "main")
	w := newWriter(t, srv, srv.Password)
	ctx := context.Background()
	_, err := w.Apply(ctx, Batch{URL: url, Branch: "main", Message: "init", Changes: []Change{
		{Path: "m/vpcs/good.yaml", Content: []byte("v1\n")},
		{Path: "m/vpcs/now-invalid.yaml", Content: []byte("last valid\n")},
	}})
	require.NoError(t, err)
	res, err := w.Apply(ctx, Batch{URL: url, Branch: "main", Message: "full", Replace: []string{"m"}, Changes: []Change{
		{Path: "m/vpcs/good.yaml", Content: []byte("v2\n")},
		{Path: "m/vpcs/now-invalid.yaml", Keep: true},
		{Path: "m/vpcs/never-written.yaml", Keep: true},
	}})
	require.NoError(t, err)
	require.True(t, res.Committed)
	co := checkout(t, srv, url)
	require.Equal(t, "m/vpcs/good.yaml\nm/vpcs/now-invalid.yaml", gitenv.Git(t, co, "ls-files"))
	require.Equal(t, "last valid\n", read(t, co, "m/vpcs/now-invalid.yaml"))
}
