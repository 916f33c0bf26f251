package breaker

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/redact"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// State of a breaker.
type State string

// The states; the hnp_breaker_state gauge shows them as 0, 1 and 2.
const (
	Closed   State = "closed"
	HalfOpen State = "half_open"
	Open     State = "open"
)

func stateOf(s gobreaker.State) State {
	switch s {
	case gobreaker.StateHalfOpen:
		return HalfOpen
	case gobreaker.StateOpen:
		return Open
	}
	return Closed
}

func (s State) gauge() float64 {
	switch s {
	case HalfOpen:
		return 1
	case Open:
		return 2
	}
	return 0
}

// ErrOpen is what Do returns, wrapped in an *OpenError, while a breaker
// refuses calls.
var ErrOpen = errors.New("breaker: circuit open")

// OpenError is a call refused by a breaker without running it.
type OpenError struct {
	Dependency Dependency
	Remote     string
	State      State
	// RetryAfter is when the breaker lets a probe through; 0 when half-open
	// (a probe is running) — then use your own short delay.
	RetryAfter time.Duration
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("breaker: %s: circuit %s, retry in %s", name(e.Dependency, e.Remote), e.State, e.RetryAfter)
}

// UnavailableFor is how long the dependency is expected to stay refused:
// the queue waits that long (at least its base backoff) before running the
// work again, without counting an attempt.
func (e *OpenError) UnavailableFor() time.Duration { return e.RetryAfter }

// Is makes errors.Is(err, ErrOpen) true.
func (e *OpenError) Is(target error) bool { return target == ErrOpen }

// tripError is a failure that opened the breaker (or a half-open probe
// that failed): the caller sees the failure itself, and like an OpenError
// it says the dependency is unavailable for a while, so a queue does not
// count it against the work. errors.Is(err, ErrOpen) stays false: the call
// did reach the remote.
type tripError struct {
	err  error
	open *OpenError
}

func (e *tripError) Error() string                 { return e.err.Error() }
func (e *tripError) Unwrap() error                 { return e.err }
func (e *tripError) UnavailableFor() time.Duration { return e.open.RetryAfter }

// Breaker guards the calls to one remote of one dependency.
type Breaker struct {
	set      *Set
	dep      Dependency
	remote   string
	cb       *gobreaker.CircuitBreaker[struct{}]
	log      *slog.Logger
	failures prometheus.Counter
	rejected prometheus.Counter

	mu          sync.Mutex
	lastOK      time.Time
	lastFail    time.Time
	lastErr     string
	consecutive int
	openedAt    time.Time
}

func newBreaker(s *Set, k key) *Breaker {
	b := &Breaker{
		set: s, dep: k.dep, remote: k.remote,
		log:      s.logger.With("dependency", string(k.dep), "remote", k.remote),
		failures: s.metrics.failures.WithLabelValues(string(k.dep), k.remote),
		rejected: s.metrics.rejected.WithLabelValues(string(k.dep), k.remote),
	}
	b.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        b.name(),
		MaxRequests: s.opts.HalfOpenMaxRequests,
		Interval:    s.opts.Interval,
		Timeout:     s.opts.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= s.opts.ConsecutiveFailures
		},
		OnStateChange: func(_ string, from, to gobreaker.State) { b.transition(stateOf(from), stateOf(to)) },
		IsSuccessful:  func(err error) bool { return err == nil || outcomeOf(err) == success },
		IsExcluded:    func(err error) bool { return outcomeOf(err) == excluded },
	})
	return b
}

func name(dep Dependency, remote string) string {
	if remote == "" {
		return string(dep)
	}
	return string(dep) + " " + remote
}

func (b *Breaker) name() string { return name(b.dep, b.remote) }

// State is the breaker's state now; an open breaker whose timeout passed
// becomes half-open here.
func (b *Breaker) State() State { return stateOf(b.cb.State()) }

// record remembers an outcome for the health report.
func (b *Breaker) record(o outcome, err error) {
	if o == excluded {
		return
	}
	now := b.set.now()
	if o == failure {
		b.failures.Inc()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if o == success {
		b.lastOK, b.consecutive = now, 0
		return
	}
	b.lastFail, b.lastErr = now, redact.Text(err.Error())
	b.consecutive++
}

// transition runs inside gobreaker's lock: it must not call b.cb.
func (b *Breaker) transition(from, to State) {
	now := b.set.now()
	b.mu.Lock()
	if to == Open {
		b.openedAt = now
	}
	consecutive, lastErr := b.consecutive, b.lastErr
	b.mu.Unlock()
	b.set.metrics.transitions.WithLabelValues(string(b.dep), b.remote, string(to)).Inc()
	switch to {
	case Open:
		b.log.Warn("circuit breaker opened; calls are refused until it probes again", "from", string(from), "to", string(to),
			"consecutive_failures", consecutive, "last_error", lastErr, "retry_in", b.set.opts.OpenTimeout.String())
	case HalfOpen:
		b.log.Info("circuit breaker half-open; probing", "from", string(from), "to", string(to))
	default:
		b.log.Info("circuit breaker closed", "from", string(from), "to", string(to))
	}
}

func (b *Breaker) openError() *OpenError {
	st := b.State()
	e := &OpenError{Dependency: b.dep, Remote: b.remote, State: st}
	if st == Open {
		b.mu.Lock()
		e.RetryAfter = max(0, b.openedAt.Add(b.set.opts.OpenTimeout).Sub(b.set.now()))
		b.mu.Unlock()
	}
	if st == Closed { // it closed since refusing: a probe succeeded
		e.State = HalfOpen
	}
	return e
}
