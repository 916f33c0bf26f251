package breaker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy is capped exponential backoff with jitter for Retry.
type Policy struct {
	// Attempts is the most calls made, the first included.
	Attempts int
	// Base is the wait after the first failure; it doubles after each
	// further one, up to Max.
	Base, Max time.Duration
	// Jitter is the fraction of each wait that is random: the wait is drawn
	// uniformly from [(1-Jitter)·d, d]. 1 is "full jitter", 0 none.
	Jitter float64

	// Sleep waits d or until ctx ends (then it returns ctx.Err()); nil uses
	// a timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a uniform number in [0, n), n > 0; nil uses math/rand/v2.
	Rand func(n int64) int64
}

// DefaultPolicy suits a call inside one queue run: a few quick retries; the
// queue's own backoff spaces longer outages.
func DefaultPolicy() Policy {
	return Policy{Attempts: 4, Base: 200 * time.Millisecond, Max: 5 * time.Second, Jitter: 1}
}

func (p Policy) validate() error {
	switch {
	case p.Attempts < 1:
		return errors.New("breaker: retry policy: attempts must be >= 1")
	case p.Base <= 0 || p.Max < p.Base:
		return errors.New("breaker: retry policy: base must be > 0 and <= max")
	case p.Jitter < 0 || p.Jitter > 1:
		return errors.New("breaker: retry policy: jitter must be in [0, 1]")
	}
	return nil
}

// delay is the wait after failed call number attempt (>= 1).
func (p Policy) delay(attempt int) time.Duration {
	d := p.Max
	if shift := attempt - 1; shift >= 0 && shift < 62 {
		if e := p.Base << shift; e > 0 && e < p.Max {
			d = e
		}
	}
	if j := int64(float64(d) * p.Jitter); j > 0 {
		rnd := p.Rand
		if rnd == nil {
			rnd = rand.Int64N
		}
		d -= time.Duration(rnd(j + 1))
	}
	return d
}

// Retry calls fn until it succeeds, Attempts calls were made, or ctx ends,
// waiting delay(n) after the n-th failure. It returns at once, with fn's
// error unchanged, on errors not worth retrying: ErrOpen (do not hammer an
// open breaker: hand the work back to the queue to requeue with a delay),
// neutral and Permanent errors, and any error once ctx is done. After the
// last attempt it returns the last error wrapped ("breaker: gave up after N
// attempts: …"); an invalid policy is an error without calling fn.
func Retry(ctx context.Context, p Policy, fn func(context.Context) error) error {
	if err := p.validate(); err != nil {
		return err
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil || !retryable(ctx, err) {
			return err
		}
		if attempt >= p.Attempts {
			if attempt == 1 {
				return err
			}
			return fmt.Errorf("breaker: gave up after %d attempts: %w", attempt, err)
		}
		if serr := sleep(ctx, p.delay(attempt)); serr != nil {
			return fmt.Errorf("breaker: retry stopped (%w): %w", serr, err)
		}
	}
}

func retryable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !IsOpen(err) && !IsNeutral(err) && !IsPermanent(err)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
