package breaker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestHalfOpen(t *testing.T) {
	cases := []struct {
		name  string
		probe func(context.Context) error
		want  State
	}{
		{"probe succeeds: closes", ok, Closed},
		{"probe answers neutral: closes", fail(neutral(errors.New("HTTP 404"))), Closed},
		{"probe fails: opens again", fail(errDown), Open},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.ConsecutiveFailures, o.OpenTimeout = 1, probeAfter })
			b := f.set.Get(Kubernetes, "https://127.0.0.1:6443")
			_ = b.Do(t.Context(), fail(errDown))
			require.Equal(t, Open, b.State())
			require.Eventually(t, func() bool { return b.State() == HalfOpen }, 2*time.Second, 2*time.Millisecond)
			called := false
			_ = b.Do(t.Context(), func(ctx context.Context) error { called = true; return tc.probe(ctx) })
			require.True(t, called)
			require.Equal(t, tc.want, b.State())
		})
	}
}

func TestHalfOpenLetsOneProbeThrough(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ConsecutiveFailures, o.OpenTimeout = 1, probeAfter })
	b := f.set.Get(ArgoCD, "https://argocd.example.com")
	_ = b.Do(t.Context(), fail(errDown))
	require.Eventually(t, func() bool { return b.State() == HalfOpen }, 2*time.Second, 2*time.Millisecond)

	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- b.Do(t.Context(), func(context.Context) error { close(started); <-release; return nil })
	}()
	<-started
	err := b.Do(t.Context(), func(context.Context) error { panic("second probe must not run") })
	var oe *OpenError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, HalfOpen, oe.State)
	require.Zero(t, oe.RetryAfter)
	close(release)
	require.NoError(t, <-done)
	require.Equal(t, Closed, b.State())
}

func TestGet(t *testing.T) {
	s := newFixture(t, nil).set
	a := s.Get(Git, "https://alice:s3cret@Git.Example.com/org/a.git")
	require.Same(t, a, s.Get(Git, "https://git.example.com:443/org/b.git"), "one breaker per host:port")
	require.NotSame(t, a, s.Get(Git, "ssh://git@git.example.com/org/a.git"))
	require.NotSame(t, a, s.Get(NetBox, "https://git.example.com"))
	require.Equal(t, "git.example.com:443", a.remote)
	require.Panics(t, func() { s.Get("redis", "") })
}

func TestNewSetRejects(t *testing.T) {
	cases := map[string]func(*Options){
		"no failures":      func(o *Options) { o.ConsecutiveFailures = 0 },
		"no open timeout":  func(o *Options) { o.OpenTimeout = 0 },
		"no probes":        func(o *Options) { o.HalfOpenMaxRequests = 0 },
		"negative timeout": func(o *Options) { o.CallTimeout = -time.Second },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			opts := DefaultOptions()
			mutate(&opts)
			_, err := NewSet(nil, prometheus.NewRegistry(), opts)
			require.ErrorContains(t, err, "breaker: options: ")
		})
	}
	_, err := NewSet(nil, nil, DefaultOptions())
	require.Error(t, err)
	reg := prometheus.NewRegistry()
	_, err = NewSet(nil, reg, DefaultOptions())
	require.NoError(t, err)
	_, err = NewSet(nil, reg, DefaultOptions())
	require.ErrorContains(t, err, "breaker: register metrics")
}

func TestPanicIsAFailure(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ConsecutiveFailures = 1 })
	b := f.set.Get(Git, gitURL)
	require.PanicsWithValue(t, "boom", func() {
		_ = b.Do(t.Context(), func(context.Context) error { panic("boom") })
	})
	require.Equal(t, Open, b.State())
	require.Equal(t, 1.0, counter(t, f.set.metrics.failures, Git, "git.example.com:443"))
	require.Equal(t, "panic: boom", b.Report().Error)
}
