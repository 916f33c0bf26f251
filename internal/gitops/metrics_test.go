package gitops

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

func TestPushResult(t *testing.T) {
	cases := []struct {
		res  Result
		err  error
		want string
	}{
		{Result{Committed: true}, nil, PushOK},
		{Result{}, nil, PushNoChange},
		{Result{}, ErrMoved, PushSuperseded},
		{Result{}, &fenceError{err: errors.New("lease lost")}, PushSuperseded},
		{Result{}, ErrAuth, PushAuth},
		{Result{}, ErrRejected, PushRejected},
		{Result{}, ErrConflict, PushConflict},
		{Result{}, ErrNotFound, PushError},
		{Result{}, errors.New("dial tcp: connection refused"), PushError},
	}
	for _, c := range cases {
		require.Equal(t, c.want, pushResult(c.res, c.err), "%v", c.err)
	}
}

// Through a real Git server: each Apply is counted once by its outcome;
// one whose caller gave up is not.
func TestPushesAreCounted(t *testing.T) {
	srv := gitenv.Start(t)
	url := srv.NewRepo(t, "counted", "main")
	ctx := context.Background()
	w := newWriter(t, srv, srv.Password)
	reg := prometheus.NewRegistry()
	require.NoError(t, w.RegisterMetrics(reg))
	batch := func(content string) Batch {
		return Batch{URL: url, Branch: "main", Message: "x", Changes: []Change{{Path: "a", Content: []byte(content)}}}
	}
	count := func(result string) float64 { return testutil.ToFloat64(w.pushes.WithLabelValues(result)) }

	_, err := w.Apply(ctx, batch("1"))
	require.NoError(t, err)
	_, err = w.Apply(ctx, batch("1"))
	require.NoError(t, err)
	bad := newWriter(t, srv, "wrong-token")
	require.NoError(t, bad.RegisterMetrics(prometheus.NewRegistry()))
	_, err = bad.Apply(ctx, batch("2"))
	require.ErrorIs(t, err, ErrAuth)
	srv.Hook(t, "counted", "pre-receive", "echo 'branch is frozen' >&2; exit 1")
	_, err = w.Apply(ctx, batch("3"))
	require.ErrorIs(t, err, ErrRejected)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = w.Apply(cancelled, batch("4"))
	require.Error(t, err)

	require.Equal(t, 1.0, count(PushOK))
	require.Equal(t, 1.0, count(PushNoChange))
	require.Equal(t, 1.0, count(PushRejected))
	require.Equal(t, 0.0, count(PushError), "a cancelled call is not counted")
	require.Equal(t, 1.0, testutil.ToFloat64(bad.pushes.WithLabelValues(PushAuth)))
	require.Equal(t, 7, testutil.CollectAndCount(w.pushes), "every result is exported from the start")
}
