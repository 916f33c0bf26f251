package panics

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func newCatcher(t *testing.T) (*Catcher, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	c, err := New(slog.New(slog.NewJSONHandler(&buf, nil)), prometheus.NewRegistry())
	require.NoError(t, err)
	return c, &buf
}

func TestDo(t *testing.T) {
	plain := errors.New("plain")
	tests := []struct {
		name    string
		fn      func() error
		want    error
		counted float64
	}{
		{"ok", func() error { return nil }, nil, 0},
		{"error", func() error { return plain }, plain, 0},
		{"panic", func() error { panic("bad object") }, ErrPanic, 1},
		{"captured in a child goroutine", func() error {
			var err error
			var wg sync.WaitGroup
			wg.Go(func() { defer Capture("child", &err); panic("deep") })
			wg.Wait()
			return err
		}, ErrPanic, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, logs := newCatcher(t)
			err := c.Do("worker", tt.fn)
			require.ErrorIs(t, err, tt.want)
			if tt.want == nil {
				require.NoError(t, err)
			}
			require.Equal(t, tt.counted, testutil.ToFloat64(c.total.WithLabelValues("worker")))
			if tt.counted > 0 {
				require.Contains(t, logs.String(), `"stack":"goroutine`)
				// recorded once, even when an outer Catcher sees it again
				c.Record("outer", err)
				require.Zero(t, testutil.ToFloat64(c.total.WithLabelValues("outer")))
			}
		})
	}
}

func TestNilCatcherStillRecovers(t *testing.T) {
	var c *Catcher
	require.ErrorIs(t, c.Run("x", func() { panic(1) }), ErrPanic)
}

func TestLoopRestartsAfterPanic(t *testing.T) {
	c, _ := newCatcher(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	runs := 0
	c.Loop(ctx, "loop", time.Millisecond, func(context.Context) {
		runs++
		if runs < 3 {
			panic("again")
		}
	})
	require.Equal(t, 3, runs)
	require.Equal(t, 2.0, testutil.ToFloat64(c.total.WithLabelValues("loop")))
}
