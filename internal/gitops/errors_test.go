package gitops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
)

// The remote's answers say so to a circuit breaker through the chain; a
// transport failure does not.
func TestErrorsTellTheBreaker(t *testing.T) {
	type neutraler interface{ BreakerNeutral() bool }
	for _, e := range []error{ErrAuth, ErrRejected, ErrConflict, ErrBadChange, ErrNotFound, ErrBadBranch} {
		var n neutraler
		require.True(t, errors.As(fmt.Errorf("gitops: push https://h/r.git: %w", e), &n) && n.BreakerNeutral(), e.Error())
	}
	var n neutraler
	require.False(t, errors.As(errors.New("dial tcp: connection refused"), &n))
}

type recordingGuard struct{ remotes []string }

func (g *recordingGuard) Do(ctx context.Context, remote string, fn func(context.Context) error) error {
	g.remotes = append(g.remotes, remote)
	return fn(ctx)
}

// Apply and Files run through the Guard, keyed by the repository's URL.
func TestWriterRunsThroughItsGuard(t *testing.T) {
	g := &recordingGuard{}
	w, err := New(Options{WorkDir: t.TempDir(), Guard: g, Access: access(t, "http://127.0.0.1:1", gitaccess.Credentials{})},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	url := "http://127.0.0.1:1/none.git"
	_, err = w.Apply(t.Context(), Batch{URL: url, Branch: "main", Message: "m"})
	require.Error(t, err)
	_, _, err = w.Files(t.Context(), url, "main", "x")
	require.Error(t, err)
	require.Equal(t, []string{url, url}, g.remotes)
}
