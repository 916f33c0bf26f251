package breaker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

const gitURL = "https://git.example.com/org/fabric.git"

// probeAfter is the open timeout of tests that wait for half-open: short,
// yet long enough for the assertions made while open even on a loaded CI.
const probeAfter = 100 * time.Millisecond

var errDown = errors.New("dial tcp 192.0.2.1:443: connection refused")

type fixture struct {
	set  *Set
	reg  *prometheus.Registry
	logs *bytes.Buffer
}

func newFixture(t *testing.T, mutate func(*Options)) fixture {
	t.Helper()
	opts := DefaultOptions()
	opts.ConsecutiveFailures = 3
	if mutate != nil {
		mutate(&opts)
	}
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	s, err := NewSet(slog.New(slog.NewTextHandler(logs, nil)), reg, opts)
	require.NoError(t, err)
	return fixture{set: s, reg: reg, logs: &logs.buf}
}

// syncBuffer lets the logger write from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func fail(err error) func(context.Context) error {
	return func(context.Context) error { return err }
}

func ok(context.Context) error { return nil }

func TestTripsAfterConsecutiveFailures(t *testing.T) {
	for _, n := range []uint32{1, 3, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.ConsecutiveFailures = n })
			b := f.set.Get(Git, gitURL)
			for i := range n {
				require.Equal(t, Closed, b.State(), "after %d failures", i)
				require.ErrorIs(t, b.Do(t.Context(), fail(errDown)), errDown)
			}
			require.Equal(t, Open, b.State())

			called := false
			err := b.Do(t.Context(), func(context.Context) error { called = true; return nil })
			require.False(t, called, "an open breaker must not call fn")
			require.ErrorIs(t, err, ErrOpen)
			require.True(t, errors.Is(err, ErrOpen))
			var oe *OpenError
			require.ErrorAs(t, err, &oe)
			require.Equal(t, Git, oe.Dependency)
			require.Equal(t, "git.example.com:443", oe.Remote)
			require.Equal(t, Open, oe.State)
			require.Greater(t, oe.RetryAfter, time.Duration(0))
			require.LessOrEqual(t, oe.RetryAfter, 30*time.Second)
			require.Contains(t, err.Error(), "breaker: git git.example.com:443: circuit open")
		})
	}
}

func TestSuccessResetsConsecutiveFailures(t *testing.T) {
	b := newFixture(t, nil).set.Get(NetBox, "http://netbox:8080")
	for _, fn := range []func(context.Context) error{fail(errDown), fail(errDown), ok, fail(errDown), fail(errDown), ok} {
		_ = b.Do(t.Context(), fn)
	}
	require.Equal(t, Closed, b.State())
}

// neutralType is an error of another package marking itself neutral.
type neutralType struct{}

func (neutralType) Error() string        { return "netbox: HTTP 400: name: this field is required" }
func (neutralType) BreakerNeutral() bool { return true }

func TestDoesNotTrip(t *testing.T) {
	busy := errors.New("argocd: another operation is already in progress")
	invalid := errors.New("netbox: HTTP 422: invalid vlan")
	cases := []struct {
		name string
		call func(t *testing.T, b *Breaker) error
		want error // errors.Is target of Do's answer
	}{
		{"4xx marked neutral", func(t *testing.T, b *Breaker) error {
			return b.Do(t.Context(), fail(neutral(fmt.Errorf("netbox: get vpc 4: %w", invalid))))
		}, invalid},
		{"error type implementing BreakerNeutral", func(t *testing.T, b *Breaker) error {
			return b.Do(t.Context(), fail(fmt.Errorf("wrapped: %w", neutralType{})))
		}, neutralType{}},
		{"argo cd busy", func(t *testing.T, b *Breaker) error {
			return b.Do(t.Context(), fail(neutral(busy)))
		}, busy},
		{"caller cancels", func(t *testing.T, b *Breaker) error {
			ctx, cancel := context.WithCancel(t.Context())
			return b.Do(ctx, func(ctx context.Context) error { cancel(); return ctx.Err() })
		}, context.Canceled},
		{"caller's deadline passes", func(t *testing.T, b *Breaker) error {
			ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
			defer cancel()
			return b.Do(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		}, context.DeadlineExceeded},
		{"caller cancels, client answers something else", func(t *testing.T, b *Breaker) error {
			ctx, cancel := context.WithCancel(t.Context())
			return b.Do(ctx, func(context.Context) error { cancel(); return errDown })
		}, errDown},
		{"caller's ctx already done", func(t *testing.T, b *Breaker) error {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return b.Do(ctx, func(context.Context) error { panic("must not be called") })
		}, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.ConsecutiveFailures = 2 })
			b := f.set.Get(ArgoCD, "https://argocd.example.com")
			for range 10 {
				err := tc.call(t, b)
				require.ErrorIs(t, err, tc.want)
				require.False(t, errors.Is(err, ErrOpen))
			}
			require.Equal(t, Closed, b.State())
			require.Zero(t, counter(t, f.set.metrics.failures, ArgoCD, "argocd.example.com:443"))
			require.Equal(t, "", b.Report().Error)
		})
	}
}

func TestNeutralErrorIsReturnedUnchanged(t *testing.T) {
	b := newFixture(t, nil).set.Get(NetBox, "")
	inner := fmt.Errorf("netbox: HTTP 400: %w", errDown)
	err := b.Do(t.Context(), fail(neutral(inner)))
	require.Equal(t, inner.Error(), err.Error())
	require.ErrorIs(t, err, errDown)
	require.True(t, isNeutral(err))
	require.NotNil(t, b.Report().LastSuccess, "a neutral answer proves the remote is up")
}

func TestOwnTimeoutIsAFailure(t *testing.T) {
	cases := map[string]struct {
		mutate func(*Options)
		fn     func(context.Context) error
	}{
		"Options.CallTimeout": {func(o *Options) { o.CallTimeout = 5 * time.Millisecond },
			func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		"a timeout inside fn": {nil, func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
			defer cancel()
			<-ctx.Done()
			return fmt.Errorf("git: push: %w", ctx.Err())
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := newFixture(t, tc.mutate).set.Get(Git, gitURL)
			for range 3 {
				require.ErrorIs(t, b.Do(t.Context(), tc.fn), context.DeadlineExceeded)
			}
			require.Equal(t, Open, b.State(), "a remote that does not answer in time is down")
		})
	}
}
