package gitops

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

// fsck checks a repository as Git itself would.
func fsck(t *testing.T, dir string) {
	t.Helper()
	gitenv.Git(t, dir, "fsck", "--strict", "--no-dangling")
}

// cloneDirs lists the writer's bare clones.
func cloneDirs(t *testing.T, w *Writer) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(w.opts.WorkDir, "*"))
	require.NoError(t, err)
	return dirs
}

// The pack the writer makes must hold everything the remote lacks across
// creates, updates, deletes, a file moved with its content unchanged and
// two files with the same content; remote and clone stay fsck-clean.
func TestPushedPacksAreComplete(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "packs", "main")
	w := newWriter(t, srv, srv.Password)
	ctx := context.Background()
	steps := [][]Change{
		{{Path: "f/managed/vpcs/a.yaml", Content: []byte("a\n")}, {Path: "f/managed/vpcs/b.yaml", Content: []byte("b\n")},
			{Path: "f/managed/vpcs/c.yaml", Content: []byte("a\n")}, {Path: "f/.hnp/manifest.yaml", Content: []byte("layout: 1\n")}},
		{{Path: "f/managed/vpcs/a.yaml", Content: []byte("a2\n")}, {Path: "f/managed/vpcs/b.yaml"}},
		{{Path: "f/managed/vpcs/c.yaml"}, {Path: "f/managed/ipns/c.yaml", Content: []byte("a\n")}},
		{{Path: "f/managed/ipns/c.yaml"}, {Path: "f/managed/vpcs/a.yaml"}},
	}
	for i, changes := range steps {
		res, err := w.Apply(ctx, Batch{URL: url, Branch: "main", Message: "step", Changes: changes})
		require.NoError(t, err, "step %d", i)
		require.True(t, res.Committed, "step %d", i)
		fsck(t, srv.Dir("packs"))
	}
	for _, dir := range cloneDirs(t, w) {
		fsck(t, dir)
	}
	co := checkout(t, srv, url)
	require.Equal(t, "layout: 1\n", read(t, co, "f/.hnp/manifest.yaml"))
	require.NoDirExists(t, filepath.Join(co, "f/managed"))
}

// A push that failed leaves its objects in the clone but not on the
// remote; the next attempt must send them again.
func TestObjectsOfAFailedPushAreSentAgain(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "again", "main")
	w := newWriter(t, srv, srv.Password)
	ctx := context.Background()
	batch := Batch{URL: url, Branch: "main", Message: "x",
		Changes: []Change{{Path: "f/managed/vpcs/a.yaml", Content: []byte("a\n")}}}
	srv.Hook(t, "again", "pre-receive", "exit 1")
	_, err := w.Apply(ctx, batch)
	require.ErrorIs(t, err, ErrRejected)
	srv.Hook(t, "again", "pre-receive", "exit 0")
	res, err := w.Apply(ctx, batch)
	require.NoError(t, err)
	require.True(t, res.Committed)
	fsck(t, srv.Dir("again"))
	require.Equal(t, "a\n", read(t, checkout(t, srv, url), "f/managed/vpcs/a.yaml"))
}

// Another writer can move the branch after the remote advertised it and
// before it takes our update: the remote refuses to lock the ref, and the
// batch is rebuilt on the new tip.
func TestBranchMovedDuringThePushIsRetried(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "moved", "main")
	w := newWriter(t, srv, srv.Password)
	ctx := context.Background()
	_, err := w.Apply(ctx, Batch{URL: url, Branch: "main", Message: "init",
		Changes: []Change{{Path: "f/managed/vpcs/a.yaml", Content: []byte("a\n")}}})
	require.NoError(t, err)
	// Once, while our push waits in pre-receive, commit on the branch
	// outside the push's quarantine.
	srv.Hook(t, "moved", "pre-receive", `[ -e moved ] && exit 0; touch moved
unset GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_QUARANTINE_PATH
c=$(GIT_AUTHOR_NAME=o GIT_AUTHOR_EMAIL=o@o GIT_COMMITTER_NAME=o GIT_COMMITTER_EMAIL=o@o git commit-tree -p refs/heads/main -m other 'refs/heads/main^{tree}') && git update-ref refs/heads/main "$c"`)
	res, err := w.Apply(ctx, Batch{URL: url, Branch: "main", Message: "Create VPC b",
		Changes: []Change{{Path: "f/managed/vpcs/b.yaml", Content: []byte("b\n")}}})
	require.NoError(t, err)
	require.True(t, res.Committed)
	require.Equal(t, 2, res.Attempts)
	fsck(t, srv.Dir("moved"))
	co := checkout(t, srv, url)
	require.Equal(t, "Create VPC b\nother\ninit", gitenv.Git(t, co, "log", "--format=%s"))
}

// A batch big enough to be packed by several goroutines makes one valid
// pack (run under -race too).
func TestLargeBatchMakesOneValidPack(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "large", "main")
	w := newWriter(t, srv, srv.Password)
	changes := make([]Change, 3000)
	for i := range changes {
		changes[i] = Change{Path: fmt.Sprintf("f/managed/d%d/o-%04d.yaml", i%7, i), Content: fmt.Appendf(nil, "name: o-%d\n", i)}
	}
	res, err := w.Apply(context.Background(), Batch{URL: url, Branch: "main", Message: "large", Changes: changes})
	require.NoError(t, err)
	require.True(t, res.Committed)
	fsck(t, srv.Dir("large"))
	for _, dir := range cloneDirs(t, w) {
		fsck(t, dir)
	}
	co := checkout(t, srv, url)
	require.Equal(t, "name: o-2999\n", read(t, co, "f/managed/d3/o-2999.yaml"))
}
