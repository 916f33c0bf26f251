package reconcile

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

func TestOverlaps(t *testing.T) {
	at := func(url, branch, root string) Target { return Target{URL: url, Branch: branch, Root: root} }
	const u = "https://git.example.com/acme/fabrics.git"
	tests := []struct {
		name string
		a, b Target
		want bool
	}{
		{"same directory", at(u, "main", "a"), at(u, "main", "a"), true},
		{"nested", at(u, "main", "a"), at(u, "main", "a/b"), true},
		{"top contains all", at(u, "main", ""), at(u, "main", "x/y"), true},
		{"same URL spelled differently", at(u, "main", "a"), at("HTTPS://Git.Example.com/acme/fabrics/", "main", "a/"), true},
		{"same directory written differently", at(u, "main", "fab"), at(u, "main", "./x/../fab/."), true},
		{"nested with doubled slashes", at(u, "main", "a"), at(u, "main", "a//b"), true},
		{"siblings", at(u, "main", "a"), at(u, "main", "ab"), false},
		{"a root that cannot be written", at(u, "main", "a"), at(u, "main", "../a"), false},
		{"other branch", at(u, "main", "a"), at(u, "dev", "a"), false},
		{"other repository", at(u, "main", "a"), at("https://git.example.com/acme/other.git", "main", "a"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, overlaps(tt.a, tt.b))
			require.Equal(t, tt.want, overlaps(tt.b, tt.a))
		})
	}
}

type recordingQueue struct {
	mu     sync.Mutex
	queued []int64
}

func (q *recordingQueue) Enqueue(_ context.Context, h queue.Hint) (queue.EnqueueResult, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queued = append(q.queued, h.ObjectID)
	return "", nil
}

func (q *recordingQueue) take() []int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.queued
	q.queued = nil
	return out
}

// Two fabrics in NetBox on one repository and branch, one directory inside
// the other: before, each full reconcile deleted the other's managed/
// files. Now both are refused with the reason on each (the other is queued
// to show it), nothing is written; once one moves, both sync.
func TestOverlappingFabricsAreRefused(t *testing.T) {
	e := setup(t, "overlap")
	ctx := context.Background()
	rdb := redisenv.Start(t).Client(t)
	probs, err := problems.New(rdb, "t", prometheus.NewRegistry())
	require.NoError(t, err)
	w, err := gitops.New(gitops.Options{WorkDir: t.TempDir(),
		Access: gitAccess(t, e.srv)}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	q := &recordingQueue{}
	rec := New(e.nb, w, Defaults{}, slog.New(slog.NewTextHandler(io.Discard, nil)), WithProblems(probs), WithOverlapCheck(e.nb, q))

	outer, err := fabric.EnsureFabric(ctx, e.nb, "overlap-outer", map[string]any{"git_repository_url": e.url, "gitops_directory": "/ov/"})
	require.NoError(t, err)
	inner, err := fabric.EnsureFabric(ctx, e.nb, "overlap-inner", map[string]any{"git_repository_url": e.url + "/", "gitops_directory": "/ov/inner/"})
	require.NoError(t, err)
	apart, err := fabric.EnsureFabric(ctx, e.nb, "overlap-apart", map[string]any{"git_repository_url": e.url, "gitops_directory": "/ov-apart/"})
	require.NoError(t, err)

	_, err = rec.SyncFabric(ctx, outer)
	require.ErrorIs(t, err, ErrFabricConfig)
	require.Contains(t, err.Error(), `its Git directory overlaps with fabric "overlap-inner"`)
	require.Equal(t, []int64{inner}, q.take(), "the other fabric is queued to show it too")
	_, err = rec.SyncFabric(ctx, inner)
	require.ErrorIs(t, err, ErrFabricConfig)
	require.Contains(t, err.Error(), `fabric "overlap-outer" (id `)
	require.Empty(t, q.take(), "the other already shows it: no ping-pong")
	require.Empty(t, e.files(t, "ov"), "nothing written")
	list, err := probs.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	for _, p := range list {
		require.True(t, strings.HasPrefix(p.Reason, overlapReason), p.Reason)
	}
	_, err = rec.SyncFabric(ctx, apart)
	require.NoError(t, err, "a fabric beside them is not affected")

	// The inner fabric moves out: it syncs, and the outer one is queued to
	// look again, and syncs too.
	require.NoError(t, e.nb.PatchFabric(ctx, inner, map[string]any{"git_repository_url": e.url, "gitops_directory": "/ov-inner/"}))
	_, err = rec.SyncFabric(ctx, inner)
	require.NoError(t, err)
	require.Equal(t, []int64{outer}, q.take())
	_, err = rec.SyncFabric(ctx, outer)
	require.NoError(t, err)
	require.NotEmpty(t, e.files(t, "ov"))
	require.NotEmpty(t, e.files(t, "ov-inner"))
}
