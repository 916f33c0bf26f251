package drift

import (
	"context"
	"errors"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/cluster"
)

// Run checks every fabric the state store knows (and this replica owns) each Interval (jittered by
// up to a tenth) until ctx ends; with no Interval it returns at once.
func (d *Detector) Run(ctx context.Context) {
	if d.opts.Interval <= 0 {
		return
	}
	for {
		wait := d.opts.Interval + rand.N(d.opts.Interval/10+1) //nolint:gosec // jitter, not security
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		d.CheckAll(ctx)
	}
}

// CheckAll checks every fabric the state store knows that this replica
// owns, one after another.
func (d *Detector) CheckAll(ctx context.Context) {
	fabrics, err := d.states.Fabrics(ctx)
	if err != nil {
		d.logger.Warn("drift check skipped: fabrics not listed", "err", err)
		return
	}
	ids := make([]int64, 0, len(fabrics))
	for id := range fabrics {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		if !d.owns(ctx, id) {
			continue // its owner checks it
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		rep, err := d.Check(cctx, id)
		cancel()
		switch {
		case errors.Is(err, cluster.ErrNoCluster):
			d.logger.Debug("drift check skipped: no cluster", "fabric_id", id)
		case err != nil:
			d.logger.Warn("drift check failed", "fabric_id", id, "fabric", fabrics[id], "err", err)
		case rep.NewlyDrifted > 0 || rep.Resolved > 0 || len(rep.Orphans) > 0:
			d.logger.Info("drift check", "fabric", rep.FabricName, "drifted", len(rep.Drifted), "newly_drifted", rep.NewlyDrifted,
				"resolved", rep.Resolved, "orphans", len(rep.Orphans), "agents_converged", rep.Agents.Converged,
				"switches", rep.Agents.Switches, "duration", rep.Duration)
		}
	}
}

// owns asks the Owner (none: every fabric is this replica's).
func (d *Detector) owns(ctx context.Context, fabric int64) bool {
	if d.opts.Owner == nil {
		return true
	}
	ok, err := d.opts.Owner.Own(ctx, fabric)
	if err != nil {
		if ctx.Err() == nil {
			d.logger.Warn("drift check skipped: fabric's owner not known", "fabric_id", fabric, "err", err)
		}
		return false
	}
	return ok
}
