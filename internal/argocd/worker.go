package argocd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/health"
)

// errNotOwner: the fabric's lease went elsewhere while its sync ran; its
// new owner takes the stored target up.
var errNotOwner = errors.New("argocd: this replica no longer owns the fabric")

// work handles one fabric's targets until none is waiting.
func (s *Syncer) work(ctx context.Context, fabric int64) {
	for {
		s.mu.Lock()
		j, ok := s.want[fabric]
		delete(s.want, fabric)
		if !ok || ctx.Err() != nil {
			s.active[fabric] = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		t := j.t
		err := s.opts.Panics.Do("argocd.syncer", func() error { return s.reach(ctx, j) })
		switch {
		case err == nil || IsForeign(err) || errors.Is(err, ErrRefusedPlace):
			// A foreign object is Argo CD's answer, a refused place the
			// fabric's configuration: not an outage (health stays) and
			// not retried: the fabric is told (Ensured) and its next run
			// offers it again.
			s.finished(ctx, j)
			if err != nil {
				if !j.counted {
					s.countFailure(err)
				}
				s.logger.Warn("argo cd not touched: the fabric's configuration or an object that is not the sidecar's; shown on the fabric",
					"fabric", t.FabricName, "application", t.App.Name, "err", err)
			}
		case stopped(err):
			s.logger.Info("argo cd sync left to the fabric's owner and its newest commit", "fabric", t.FabricName,
				"commit", t.Commit, "reason", err.Error())
		case ctx.Err() == nil:
			if !j.counted {
				s.countFailure(err)
				j.counted = true
			}
			delay := s.retryLater(ctx, j, err)
			s.logger.Warn("argo cd sync not done; tried again unless a newer commit comes first", "fabric", t.FabricName,
				"application", t.App.Name, "commit", t.Commit, "retry_in", delay.String(), "err", err)
		}
	}
}

// finished forgets a reached target (unless a newer one replaced it in
// the store) and ends the fabric's failures.
func (s *Syncer) finished(ctx context.Context, j job) {
	// Recorded even when the service is stopping (ctx ended meanwhile).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := s.store.Succeeded(ctx, j.t.Fabric, time.Now()); err != nil {
		s.logger.Warn("argo cd success not recorded", "fabric", j.t.FabricName, "err", err)
	}
	if j.seq == 0 {
		return // never stored: Done would not know which target it clears
	}
	if err := s.store.Done(ctx, j.t.Fabric, j.seq); err != nil {
		s.logger.Warn("argo cd target reached, not cleared in redis: synced again after a restart", "fabric", j.t.FabricName, "err", err)
	}
}

// retryLater offers j again after a capped, jittered backoff (at least as
// long as an open breaker says), unless a newer target came meanwhile.
func (s *Syncer) retryLater(ctx context.Context, j job, err error) time.Duration {
	n, serr := s.store.Failed(ctx, j.t.Fabric, fabricFailure{FabricName: j.t.FabricName, Error: err.Error(), At: time.Now().UTC()})
	if serr != nil {
		n = 1
		s.logger.Warn("argo cd failure not recorded", "fabric", j.t.FabricName, "err", serr)
	}
	delay := s.opts.RetryBase << min(max(n, 1)-1, 16)
	if delay > s.opts.RetryMax || delay <= 0 {
		delay = s.opts.RetryMax
	}
	delay = delay/2 + rand.N(delay/2+1) //nolint:gosec // jitter, not security
	var open interface{ UnavailableFor() time.Duration }
	if errors.As(err, &open) {
		delay = max(delay, open.UnavailableFor())
	}
	s.mu.Lock()
	s.delayed[j.t.Fabric] = true
	s.mu.Unlock()
	time.AfterFunc(delay, func() {
		s.mu.Lock()
		delete(s.delayed, j.t.Fabric)
		if _, newer := s.want[j.t.Fabric]; !newer && ctx.Err() == nil {
			s.want[j.t.Fabric] = j
		}
		s.mu.Unlock()
		s.poke()
	})
	return delay
}

// Report is the syncer's part of /api/v1/health (HealthReport, bounded by
// storeTimeout).
func (s *Syncer) Report() health.Report {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	return s.HealthReport(ctx)
}

// HealthReport is the same on every replica: degraded while a fabric's
// last attempt failed (details.failing: fabric → failures in a row).
func (s *Syncer) HealthReport(ctx context.Context) health.Report {
	failing, last, err := s.store.Failing(ctx)
	if err != nil {
		now := time.Now().UTC()
		return health.Report{Status: health.Degraded, Error: err.Error(), LastError: &now}
	}
	r := health.Report{Status: health.OK}
	if !last.IsZero() {
		l := last.UTC()
		r.LastSuccess = &l
	}
	if len(failing) == 0 {
		return r
	}
	ids := make([]int64, 0, len(failing))
	counts := map[string]int{}
	for id, f := range failing {
		ids = append(ids, id)
		counts[f.FabricName] = f.Count
	}
	sort.Slice(ids, func(i, j int) bool { return failing[ids[i]].At.After(failing[ids[j]].At) })
	latest := failing[ids[0]]
	r.Status, r.Error, r.LastError = health.Degraded, fmt.Sprintf("fabric %s: %s", latest.FabricName, latest.Error), &latest.At
	r.Details = map[string]any{"failing": counts}
	return r
}
