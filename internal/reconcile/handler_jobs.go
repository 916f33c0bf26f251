package reconcile

import (
	"context"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// progress records a run's progress in the jobs that asked for it, at
// most every 200ms and at each phase change; nil when no job asked.
func (h *Handler) progress(ctx context.Context, it queue.Item) func(Progress) {
	if h.jobs == nil || !hasJob(it) {
		return nil
	}
	var last time.Time
	var phase string
	return func(p Progress) {
		if p.Phase == phase && h.now().Sub(last) < 200*time.Millisecond && p.Done < p.Total {
			return
		}
		last, phase = h.now(), p.Phase
		h.record(ctx, it, func(j *jobs.Job) { j.Phase, j.Done, j.Total, j.Objects = p.Phase, p.Done, p.Total, p.Objects })
	}
}

func hasJob(it queue.Item) bool {
	for _, hint := range it.Hints {
		if strings.HasPrefix(hint.RequestID, JobPrefix) {
			return true
		}
	}
	return false
}

// record updates the jobs that asked for this run, if any.
func (h *Handler) record(ctx context.Context, it queue.Item, fn func(*jobs.Job)) {
	if h.jobs == nil {
		return
	}
	for _, hint := range it.Hints {
		id, ok := strings.CutPrefix(hint.RequestID, JobPrefix)
		if !ok {
			continue
		}
		if err := h.jobs.Update(ctx, id, fn); err != nil {
			h.r.logger.Warn("job status not recorded", "job", id, "err", err)
		}
	}
}
