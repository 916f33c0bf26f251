package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// EventResync marks a hint the sidecar made itself to reconcile a whole
// fabric (periodic or on request), not one NetBox sent.
const EventResync = "resync"

// FabricLister lists the fabrics to reconcile.
type FabricLister interface {
	ListFabrics(ctx context.Context) ([]netbox.Fabric, error)
}

// Enqueuer records a hint durably.
type Enqueuer interface {
	Enqueue(ctx context.Context, h queue.Hint) (queue.EnqueueResult, error)
}

// Periodic queues a full reconcile of every fabric at start and then every
// interval (±10% jitter, so replicas do not line up), so that changes whose
// webhooks NetBox never delivered still reach Git. The reconciles run
// through the queue: durable, retried, coalesced with webhook hints.
//
// With several replicas each runs the schedule; a fabric whose last full
// run (on any replica, Coverage) is younger than half the interval is
// skipped, so a rolling restart does not reconcile every fabric once per
// replica.
type Periodic struct {
	fabrics  FabricLister
	queue    Enqueuer
	interval time.Duration
	logger   *slog.Logger
	covered  Coverage // nil: every fabric every time
	now      func() time.Time
}

// Coverage is when a fabric's last successful full run started
// (lease.Manager.Covered).
type Coverage interface {
	Covered(ctx context.Context, fabric int64) (time.Time, error)
}

// WithCoverage skips fabrics reconciled less than half an interval ago.
func (p *Periodic) WithCoverage(c Coverage) *Periodic {
	p.covered = c
	return p
}

// NewPeriodic builds the schedule; interval must be positive.
func NewPeriodic(fabrics FabricLister, q Enqueuer, interval time.Duration, logger *slog.Logger) *Periodic {
	return &Periodic{fabrics: fabrics, queue: q, interval: interval, logger: logger, now: time.Now}
}

// Run queues reconciles until ctx ends.
func (p *Periodic) Run(ctx context.Context) {
	for {
		if n, err := p.Once(ctx); err != nil && ctx.Err() == nil {
			p.logger.Error("periodic reconcile: could not queue the fabrics", "err", err)
		} else if err == nil {
			p.logger.Info("periodic reconcile queued", "fabrics", n)
		}
		jitter := time.Duration(rand.Int64N(int64(p.interval)/5+1)) - p.interval/10
		t := time.NewTimer(p.interval + jitter)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// queueResync asks q for a full reconcile of one fabric on the sidecar's
// own behalf. A hint recorded on the Redis primary but not acknowledged by
// enough replicas (queue.ErrNotReplicated) is queued: it runs.
func queueResync(ctx context.Context, q Enqueuer, fabric int64) error {
	_, err := q.Enqueue(ctx, queue.Hint{ObjectType: kind.Fabric.ObjectType(), ObjectID: fabric, Kind: kind.Fabric.Name,
		Event: EventResync, User: "hnp-sidecar"})
	if errors.Is(err, queue.ErrNotReplicated) {
		return nil
	}
	return err
}

// Once queues one reconcile per fabric and returns how many.
func (p *Periodic) Once(ctx context.Context) (int, error) {
	fabrics, err := p.fabrics.ListFabrics(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range fabrics {
		if p.covered != nil {
			c, err := p.covered.Covered(ctx, f.ID)
			if age := p.now().Sub(c); err == nil && age >= 0 && age < p.interval/2 {
				continue // another replica (or this one) just did it
			}
		}
		if err := queueResync(ctx, p.queue, f.ID); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}
