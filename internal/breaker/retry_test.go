package breaker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeSleeper records the waits instead of sleeping.
type fakeSleeper struct{ waits []time.Duration }

func (f *fakeSleeper) sleep(ctx context.Context, d time.Duration) error {
	f.waits = append(f.waits, d)
	return ctx.Err()
}

func policy(s *fakeSleeper, rnd func(int64) int64) Policy {
	return Policy{Attempts: 6, Base: 100 * time.Millisecond, Max: time.Second, Jitter: 1, Sleep: s.sleep, Rand: rnd}
}

// failing returns fn failing with errs in turn, then nil, counting calls.
func failing(calls *int, errs ...error) func(context.Context) error {
	return func(context.Context) error {
		*calls++
		if *calls <= len(errs) {
			return errs[*calls-1]
		}
		return nil
	}
}

func TestRetry(t *testing.T) {
	none := func(int64) int64 { return 0 }
	open := &OpenError{Dependency: Git, Remote: "git.example.com:443", State: Open, RetryAfter: time.Second}
	cases := []struct {
		name      string
		errs      []error
		wantCalls int
		wantWaits []time.Duration
		wantErr   error
	}{
		{"success at once", nil, 1, nil, nil},
		{"success after two failures", []error{errDown, errDown}, 3, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, nil},
		{"gives up after attempts, waits capped", []error{errDown, errDown, errDown, errDown, errDown, errDown}, 6,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second}, errDown},
		{"open breaker: no retry", []error{errDown, open}, 2, []time.Duration{100 * time.Millisecond}, ErrOpen},
		{"neutral: no retry", []error{Neutral(errDown)}, 1, nil, errDown},
		{"permanent: no retry", []error{fmt.Errorf("render: %w", Permanent(errDown))}, 1, nil, errDown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeSleeper{}
			calls := 0
			err := Retry(t.Context(), policy(s, none), failing(&calls, tc.errs...))
			require.Equal(t, tc.wantCalls, calls)
			require.Equal(t, tc.wantWaits, s.waits)
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
		})
	}
}

func TestRetryGaveUpMessage(t *testing.T) {
	calls := 0
	err := Retry(t.Context(), policy(&fakeSleeper{}, nil), failing(&calls, errDown, errDown, errDown, errDown, errDown, errDown))
	require.EqualError(t, err, "breaker: gave up after 6 attempts: "+errDown.Error())
	p := policy(&fakeSleeper{}, nil)
	p.Attempts = 1
	calls = 0
	require.Equal(t, errDown, Retry(t.Context(), p, failing(&calls, errDown)), "a single attempt returns the error as is")
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	t.Run("during the wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		p := policy(&fakeSleeper{}, nil)
		p.Sleep = func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }
		calls := 0
		err := Retry(ctx, p, failing(&calls, errDown, errDown))
		require.Equal(t, 1, calls)
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, errDown)
	})
	t.Run("during the call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		s := &fakeSleeper{}
		calls := 0
		err := Retry(ctx, policy(s, nil), func(ctx context.Context) error { calls++; cancel(); return ctx.Err() })
		require.Equal(t, 1, calls)
		require.Empty(t, s.waits)
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("real timer", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		require.ErrorIs(t, sleepCtx(ctx, time.Hour), context.Canceled)
		require.NoError(t, sleepCtx(t.Context(), time.Microsecond))
	})
}

func TestRetryJitterBounds(t *testing.T) {
	cases := []struct {
		jitter   float64
		attempt  int
		min, max time.Duration
	}{
		{1, 1, 0, 100 * time.Millisecond},
		{1, 4, 0, 800 * time.Millisecond},
		{1, 30, 0, time.Second},
		{0.5, 3, 200 * time.Millisecond, 400 * time.Millisecond},
		{0, 3, 400 * time.Millisecond, 400 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.jitter, "/", tc.attempt), func(t *testing.T) {
			p := policy(&fakeSleeper{}, nil)
			p.Jitter = tc.jitter
			seen := map[time.Duration]bool{}
			for range 2000 {
				d := p.delay(tc.attempt)
				require.GreaterOrEqual(t, d, tc.min)
				require.LessOrEqual(t, d, tc.max)
				seen[d] = true
			}
			if tc.jitter > 0 {
				require.Greater(t, len(seen), 100, "waits should spread")
			}
			// The extremes are reachable.
			p.Rand = func(n int64) int64 { return n - 1 }
			require.Equal(t, tc.min, p.delay(tc.attempt))
			p.Rand = func(int64) int64 { return 0 }
			require.Equal(t, tc.max, p.delay(tc.attempt))
		})
	}
}

func TestRetryRejectsBadPolicy(t *testing.T) {
	for _, p := range []Policy{
		{Attempts: 0, Base: time.Second, Max: time.Second},
		{Attempts: 1, Base: 0, Max: time.Second},
		{Attempts: 1, Base: 2 * time.Second, Max: time.Second},
		{Attempts: 1, Base: time.Second, Max: time.Second, Jitter: 1.5},
	} {
		err := Retry(t.Context(), p, func(context.Context) error { panic("must not be called") })
		require.ErrorContains(t, err, "breaker: retry policy: ")
	}
	require.NoError(t, DefaultPolicy().validate())
}

// TestRetryAroundBreaker is the intended composition: retries stop as soon
// as the breaker opens, and the caller sees ErrOpen.
func TestRetryAroundBreaker(t *testing.T) {
	b := newFixture(t, func(o *Options) { o.ConsecutiveFailures = 2 }).set.Get(NetBox, "https://netbox.example.com")
	s := &fakeSleeper{}
	calls := 0
	err := Retry(t.Context(), policy(s, nil), func(ctx context.Context) error {
		return b.Do(ctx, func(context.Context) error { calls++; return errDown })
	})
	require.True(t, IsOpen(err))
	require.False(t, errors.Is(err, errDown))
	require.Equal(t, 2, calls)
	require.Len(t, s.waits, 2)
}
