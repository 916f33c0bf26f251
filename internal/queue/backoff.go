package queue

import (
	"math/rand/v2"
	"time"
)

// Backoff is capped exponential backoff with jitter.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

// Delay returns the wait before run number attempt+1 after attempt failed
// runs (attempt >= 1): Base·2^(attempt-1), capped at Max, with "equal
// jitter" — uniformly in [d/2, d] — so retries of many keys spread out.
func (b Backoff) Delay(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := b.Max
	if shift := attempt - 1; shift < 32 {
		if e := b.Base << shift; e > 0 && e < b.Max {
			d = e
		}
	}
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}
