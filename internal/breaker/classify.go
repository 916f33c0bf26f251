package breaker

import (
	"context"
	"errors"
)

// outcome is what one call says about the remote.
type outcome int

const (
	success  outcome = iota // it answered (nil or a neutral error)
	failure                 // it failed
	excluded                // the caller gave up; no verdict
)

// classify judges err, returned by a call made under the caller's ctx.
func classify(ctx context.Context, err error) outcome {
	switch {
	case err == nil:
		return success
	case ctx.Err() != nil:
		return excluded
	case isNeutral(err):
		return success
	}
	return failure
}

// classified carries a call's error and verdict through gobreaker, whose
// IsSuccessful and IsExcluded see only the error.
type classified struct {
	outcome outcome
	err     error
}

func (c *classified) Error() string { return c.err.Error() }
func (c *classified) Unwrap() error { return c.err }

// outcomeOf is the verdict carried by err; anything else (gobreaker's
// wrapping of a panic) is a failure.
func outcomeOf(err error) outcome {
	if c, ok := err.(*classified); ok {
		return c.outcome
	}
	return failure
}

// Neutraler is implemented by errors that prove the remote answered (a 4xx
// validation answer, Argo CD busy) and so must not count against it. Packages
// can implement it on their own error types without importing breaker.
type Neutraler interface {
	BreakerNeutral() bool
}

type neutralError struct{ err error }

func (e *neutralError) Error() string        { return e.err.Error() }
func (e *neutralError) Unwrap() error        { return e.err }
func (e *neutralError) BreakerNeutral() bool { return true }

// neutral marks err as an answer from a remote that is up: the breaker
// counts it as a success. neutral(nil) is nil. The message and the chain
// (errors.Is, errors.As) are unchanged.
func neutral(err error) error {
	if err == nil {
		return nil
	}
	return &neutralError{err: err}
}

// isNeutral reports whether err, or an error in its chain, is neutral.
func isNeutral(err error) bool {
	var n Neutraler
	return errors.As(err, &n) && n.BreakerNeutral()
}
