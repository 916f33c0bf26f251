// Package panics turns a panic in a goroutine the service starts into an
// error: logged once with its stack, counted in
// hnp_goroutine_panics_total{goroutine}, and handed back to the owner of
// the work as a normal error, so one bad object cannot crash the process.
//
// Pure code that fans work out to goroutines (no logger, no metrics)
// captures a panic with Capture and returns it; the Catcher that runs the
// enclosing work item records it when it comes back as an error.
package panics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrPanic is what every recovered panic wraps.
var ErrPanic = errors.New("panic")

// Error is a recovered panic: where it happened, its value and stack.
type Error struct {
	Where string
	Value any
	Stack []byte
	// recorded is set once a Catcher logged and counted it.
	recorded atomic.Bool
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s: %v", ErrPanic, e.Where, e.Value) }

func (e *Error) Unwrap() error { return ErrPanic }

// Capture, deferred in a goroutine, turns its panic into *Error in *dst.
// It must be called directly by defer:
//
//	defer panics.Capture("render", &err)
func Capture(where string, dst *error) {
	if p := recover(); p != nil {
		*dst = &Error{Where: where, Value: p, Stack: debug.Stack()}
	}
}

// Catcher records recovered panics. A nil *Catcher still recovers; it
// only neither logs nor counts.
type Catcher struct {
	logger *slog.Logger
	total  *prometheus.CounterVec
}

// New builds a Catcher and registers its counter.
func New(logger *slog.Logger, reg prometheus.Registerer) (*Catcher, error) {
	total := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hnp_goroutine_panics_total",
		Help: "Panics recovered in the service's goroutines, by goroutine; the work item failed as an error.",
	}, []string{"goroutine"})
	if err := reg.Register(total); err != nil {
		return nil, fmt.Errorf("panics: register metrics: %w", err)
	}
	return &Catcher{logger: logger, total: total}, nil
}

// Do runs fn as the goroutine named goroutine (a fixed name: it is a
// metric label). A panic in fn, or a captured one fn returns, is logged
// with its stack, counted and returned as an error wrapping ErrPanic.
func (c *Catcher) Do(goroutine string, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Error{Where: goroutine, Value: p, Stack: debug.Stack()}
		}
		c.Record(goroutine, err)
	}()
	return fn()
}

// Run is Do for work that returns nothing.
func (c *Catcher) Run(goroutine string, fn func()) error {
	return c.Do(goroutine, func() error { fn(); return nil })
}

// Record logs and counts the panic err carries, if any and if no Catcher
// did yet; other errors are left alone.
func (c *Catcher) Record(goroutine string, err error) {
	var pe *Error
	if c == nil || !errors.As(err, &pe) || pe.recorded.Swap(true) {
		return
	}
	c.total.WithLabelValues(goroutine).Inc()
	c.logger.Error("panic recovered; the work item failed", "goroutine", goroutine, "where", pe.Where,
		"panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
}

// Loop runs fn until ctx ends, restarting it after pause when it panics:
// a background loop (write-back, drift, a syncer) outlives a bad item.
func (c *Catcher) Loop(ctx context.Context, goroutine string, pause time.Duration, fn func(context.Context)) {
	for ctx.Err() == nil {
		if err := c.Run(goroutine, func() { fn(ctx) }); err == nil {
			return
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}
