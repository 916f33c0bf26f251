package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/lease"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// Leases hands out fabric leases (lease.Manager).
type Leases interface {
	Acquire(ctx context.Context, fabric int64) (*lease.Lease, error)
	Covered(ctx context.Context, fabric int64) (time.Time, error)
}

// skipCovered is done when a newer reconcile already covers the item:
// its jobs are then recorded as succeeded.
func (h *Handler) skipCovered(ctx context.Context, fabric int64, st *fabricState, it queue.Item) (bool, error) {
	covered, err := h.covered(ctx, fabric, st, it)
	if err != nil || !covered {
		return false, err
	}
	h.record(ctx, it, func(j *jobs.Job) { j.State = jobs.Succeeded })
	return true, nil
}

// covered says whether a reconcile that started after the item's newest
// hint already succeeded (here, or on any replica when leases are on).
func (h *Handler) covered(ctx context.Context, fabric int64, st *fabricState, it queue.Item) (bool, error) {
	var newest time.Time
	for _, hint := range it.Hints {
		if hint.ReceivedAt.After(newest) {
			newest = hint.ReceivedAt
		}
	}
	if newest.IsZero() {
		return false, nil
	}
	c := st.covered
	if h.leases != nil {
		shared, err := h.leases.Covered(ctx, fabric)
		if err != nil {
			return false, fmt.Errorf("reconcile: %w", err)
		}
		switch {
		case shared.After(h.now().Add(clockSlack)):
			// stamped by a replica whose clock is ahead: trusting it would
			// skip changes that are not in Git
			h.r.logger.Warn("a fabric's coverage is in the future: the replicas' clocks disagree (run NTP); running anyway",
				"fabric_id", fabric, "covered", shared, "ahead", shared.Sub(h.now()).String())
		case shared.After(c):
			c = shared
		}
		// Hints and coverage are stamped by different replicas' clocks:
		// only a hint received clearly before the run began is covered.
		c = c.Add(-clockSlack)
	}
	return newest.Before(c), nil
}

// clockSlack is how far the replicas' clocks may disagree (NTP keeps them
// within milliseconds; the queue's own leases assume as much): a hint
// received within it of a run's start on another replica is run again.
const clockSlack = 2 * time.Second

// runLease is the lease of one run; Lease is nil without leases.
type runLease struct{ *lease.Lease }

func (l runLease) Release() {
	if l.Lease != nil {
		l.Lease.Release()
	}
}

// lease takes the fabric's lease for a run and fences ctx with it: the
// run's pushes check it and its state records are refused once it moved.
// A fabric another replica writes is a *lease.HeldError: the queue hands
// the key back without counting an attempt.
func (h *Handler) lease(ctx context.Context, fabric int64) (context.Context, *runLease, error) {
	if h.leases == nil {
		return ctx, &runLease{}, nil
	}
	l, err := h.leases.Acquire(ctx, fabric)
	if err != nil {
		return ctx, nil, fmt.Errorf("reconcile: fabric %d: %w", fabric, err)
	}
	f := l.Fence()
	ctx = state.WithFence(ctx, state.Fence{Fabric: fabric, Key: f.Key, Value: f.Value})
	ctx = WithFence(ctx, l.Check)
	return ctx, &runLease{l}, nil
}
