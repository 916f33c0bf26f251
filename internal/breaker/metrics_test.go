package breaker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func counter(t *testing.T, v *prometheus.CounterVec, dep Dependency, remote string, extra ...string) float64 {
	t.Helper()
	return testutil.ToFloat64(v.WithLabelValues(append([]string{string(dep), remote}, extra...)...))
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ConsecutiveFailures, o.OpenTimeout = 2, probeAfter })
	const remote = "git.example.com:443"
	git := f.set.Get(Git, "https://bot:ghp_0123456789abcdef@git.example.com/org/fabric.git")
	f.set.Get(NetBox, "http://netbox.example.com:8000/api/")
	m := f.set.metrics

	for range 2 {
		_ = git.Do(t.Context(), fail(errDown))
	}
	require.True(t, errors.Is(git.Do(t.Context(), ok), ErrOpen))
	require.True(t, errors.Is(git.Do(t.Context(), ok), ErrOpen))
	require.Equal(t, 2.0, counter(t, m.failures, Git, remote))
	require.Equal(t, 2.0, counter(t, m.rejected, Git, remote))
	require.Equal(t, 1.0, counter(t, m.transitions, Git, remote, "open"))
	require.NoError(t, testutil.GatherAndCompare(f.reg, strings.NewReader(`
# HELP hnp_breaker_state Circuit breaker state: 0 closed, 1 half-open, 2 open.
# TYPE hnp_breaker_state gauge
hnp_breaker_state{dependency="git",remote="git.example.com:443"} 2
hnp_breaker_state{dependency="netbox",remote="netbox.example.com:8000"} 0
`), "hnp_breaker_state"))

	// The gauge reads the state when scraped: half-open without a call.
	require.Eventually(t, func() bool {
		err := testutil.GatherAndCompare(f.reg, strings.NewReader(`
# HELP hnp_breaker_state Circuit breaker state: 0 closed, 1 half-open, 2 open.
# TYPE hnp_breaker_state gauge
hnp_breaker_state{dependency="git",remote="git.example.com:443"} 1
hnp_breaker_state{dependency="netbox",remote="netbox.example.com:8000"} 0
`), "hnp_breaker_state")
		return err == nil
	}, 2*time.Second, 2*time.Millisecond)
	require.Equal(t, 1.0, counter(t, m.transitions, Git, remote, "half_open"))
	require.NoError(t, git.Do(t.Context(), ok))
	require.Equal(t, 1.0, counter(t, m.transitions, Git, remote, "closed"))
	require.Equal(t, 0.0, counter(t, m.failures, NetBox, "netbox.example.com:8000"), "created at zero")
}

// TestMetricNames holds the names to internal/app's rules: promlint clean,
// hnp_<subsystem>_<noun>, and no label that carries more than a host:port.
func TestMetricNames(t *testing.T) {
	f := newFixture(t, nil)
	b := f.set.Get(Git, "https://user:pass@git.example.com/x.git")
	_ = b.Do(t.Context(), fail(errDown))
	problems, err := testutil.GatherAndLint(f.reg)
	require.NoError(t, err)
	require.Empty(t, problems)
	mfs, err := f.reg.Gather()
	require.NoError(t, err)
	require.Len(t, mfs, 3, "transitions_total appears with the first transition")
	for _, mf := range mfs {
		require.Regexp(t, `^hnp_breaker_[a-z_]+$`, mf.GetName())
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				require.Contains(t, []string{"dependency", "remote", "to"}, l.GetName())
				require.NotContains(t, l.GetValue(), "user")
				require.NotContains(t, l.GetValue(), "/")
			}
		}
	}
}

func TestLogsTransitions(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ConsecutiveFailures, o.OpenTimeout = 1, probeAfter })
	b := f.set.Get(Git, "https://bot:hunter2hunter2@git.example.com/org/fabric.git")
	_ = b.Do(t.Context(), fail(fmt.Errorf("git: push to https://bot:hunter2hunter2@git.example.com/org/fabric.git: %w", errDown)))
	require.Eventually(t, func() bool { return b.State() == HalfOpen }, 2*time.Second, 2*time.Millisecond)
	require.NoError(t, b.Do(t.Context(), ok))

	logs := f.logs.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	require.Len(t, lines, 3, logs)
	require.Contains(t, lines[0], `level=WARN msg="circuit breaker opened`)
	require.Contains(t, lines[0], `dependency=git remote=git.example.com:443 from=closed to=open consecutive_failures=1`)
	require.Contains(t, lines[0], `last_error="git: push to https://git.example.com/org/fabric.git: dial tcp`)
	require.Contains(t, lines[1], `level=INFO msg="circuit breaker half-open; probing"`)
	require.Contains(t, lines[2], `level=INFO msg="circuit breaker closed" dependency=git remote=git.example.com:443 from=half_open to=closed`)
	require.NotContains(t, logs, "hunter2")
	require.NotContains(t, logs, "bot")
}

// TestConcurrent runs many goroutines through one breaker (go test -race):
// every call ends up counted exactly once.
func TestConcurrent(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ConsecutiveFailures, o.OpenTimeout = 4, time.Millisecond })
	b := f.set.Get(ArgoCD, "https://argocd.example.com")
	var calls, failed, rejected, other atomic.Int64
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 200 {
				err := b.Do(t.Context(), func(context.Context) error {
					calls.Add(1)
					if (g+i)%3 == 0 {
						return errDown
					}
					return nil
				})
				switch {
				case err == nil:
				case errors.Is(err, ErrOpen):
					rejected.Add(1)
				case errors.Is(err, errDown):
					failed.Add(1)
				default:
					other.Add(1)
				}
				if i%50 == 0 {
					_ = b.Report()
					_, _ = f.reg.Gather()
				}
			}
		})
	}
	wg.Wait()
	require.Zero(t, other.Load())
	require.Equal(t, int64(32*200), calls.Load()+rejected.Load())
	require.Equal(t, float64(failed.Load()), counter(t, f.set.metrics.failures, ArgoCD, "argocd.example.com:443"))
	require.Equal(t, float64(rejected.Load()), counter(t, f.set.metrics.rejected, ArgoCD, "argocd.example.com:443"))
}
