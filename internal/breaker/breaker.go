// Package breaker puts circuit breakers (github.com/sony/gobreaker/v2) around
// the sidecar's dependencies — Git, Argo CD, Kubernetes and NetBox — one per
// dependency and remote. Retries stay outside them (the queue's backoff,
// the Argo CD syncer's own).
//
// # Classification
//
// (*Breaker).Do runs fn and decides what its error says about the remote:
//
//   - nil is a success.
//   - Any error while the ctx given to Do is done (context.Canceled,
//     context.DeadlineExceeded, or whatever the client returned on its way
//     out) is excluded: neither success nor failure. The caller gave up; that
//     says nothing about the remote. A timeout of the call's own
//     (Options.CallTimeout, or a context.WithTimeout inside fn) while the
//     caller's ctx is alive is a failure: the remote did not answer in time.
//   - An error marked neutral — any error in its chain having a
//     BreakerNeutral() bool method that returns true (Neutraler) — is a
//     success: the remote answered, so it is up. Mark 4xx validation answers
//     and Argo CD's "another operation is already in progress" this way. Do
//     returns it unchanged (errors.Is and errors.As still see the original)
//     and it is not recorded as the dependency's last error.
//   - Anything else is a failure; Options.ConsecutiveFailures of them in a row
//     open the breaker.
//
// While a breaker is open, or half-open with its probes in flight, Do returns
// an *OpenError without calling fn; errors.Is(err, ErrOpen) is true. That is
// no failure of the work: a queue requeues it after OpenError.RetryAfter
// without counting it towards dead-lettering.
//
// Callers reach the breakers through Set.Guard (a Git writer), Set.Transport
// (an HTTP client) or Set.Get.
package breaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

type key struct {
	dep    Dependency
	remote string
}

// Set holds the breakers of one process, created on demand. It is safe for
// concurrent use.
type Set struct {
	opts    Options
	logger  *slog.Logger
	metrics *metrics
	now     func() time.Time

	mu       sync.Mutex
	breakers map[key]*Breaker
}

// NewSet builds a set; its metrics are registered on reg.
func NewSet(logger *slog.Logger, reg prometheus.Registerer, opts Options) (*Set, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Set{opts: opts, logger: logger, now: time.Now, breakers: map[key]*Breaker{}}
	m, err := newMetrics(reg, s)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// Get returns the breaker for dep and remote, creating it on first use.
// remote is reduced to host:port (see Remote), so URLs of one host share a
// breaker and no credentials or paths reach labels or logs. An unknown dep is
// a programming error and panics.
func (s *Set) Get(dep Dependency, remote string) *Breaker {
	if !dep.valid() {
		panic(fmt.Sprintf("breaker: unknown dependency %q", string(dep)))
	}
	k := key{dep: dep, remote: Remote(remote)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.breakers[k]; ok {
		return b
	}
	b := newBreaker(s, k)
	s.breakers[k] = b
	return b
}

// all returns the set's breakers, for dep only unless it is empty.
func (s *Set) all(dep Dependency) []*Breaker {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Breaker, 0, len(s.breakers))
	for k, b := range s.breakers {
		if dep == "" || k.dep == dep {
			out = append(out, b)
		}
	}
	return out
}

// Do runs fn through the breaker; see the package doc for how its error is
// counted. fn gets a ctx bounded by Options.CallTimeout when that is set.
func (b *Breaker) Do(ctx context.Context, fn func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("breaker: %s: %w", b.name(), err)
	}
	_, err := b.cb.Execute(func() (struct{}, error) {
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if t := b.set.opts.CallTimeout; t > 0 {
			cctx, cancel = context.WithTimeout(ctx, t)
		}
		defer cancel()
		defer func() {
			if p := recover(); p != nil { // gobreaker counts it and panics again
				b.record(failure, fmt.Errorf("panic: %v", p))
				panic(p)
			}
		}()
		err := fn(cctx)
		o := classify(ctx, err)
		b.record(o, err)
		if err == nil {
			return struct{}{}, nil
		}
		return struct{}{}, &classified{outcome: o, err: err}
	})
	if err == nil {
		return nil
	}
	if c, ok := err.(*classified); ok {
		if c.outcome == failure && b.State() == Open {
			// The failure that opened the breaker (or a failed probe):
			// the outage, not the work, is at fault.
			return &tripError{err: c.err, open: b.openError()}
		}
		return c.err
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		b.rejected.Inc()
		return b.openError()
	}
	return err
}

// Guard is a Set's breakers of one dependency, keyed by remote.
type Guard struct {
	set *Set
	dep Dependency
}

// Guard returns dep's breakers as a guard a client runs its calls
// through (gitops.Guard).
func (s *Set) Guard(dep Dependency) Guard { return Guard{set: s, dep: dep} }

// Do runs fn through the breaker of remote (any address Remote reads).
func (g Guard) Do(ctx context.Context, remote string, fn func(context.Context) error) error {
	return g.set.Get(g.dep, remote).Do(ctx, fn)
}
