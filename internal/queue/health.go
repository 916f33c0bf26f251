package queue

import (
	"context"

	"github.com/githedgehog/hnp-sidecar/internal/health"
)

// Running reports whether Run's workers are running in this process.
func (q *Queue) Running() bool { return q.state.isRunning() }

// Ping checks that Redis answers.
func (q *Queue) Ping(ctx context.Context) error { return q.rdb.Ping(ctx).Err() }

// Health reports the queue: down when Redis does not answer or the workers
// are not running, degraded while keys are dead-lettered.
func (q *Queue) Health(ctx context.Context) health.Report {
	s, err := q.Stats(ctx)
	if err != nil {
		q.state.failure(q.now(), err)
		return q.state.tracker.Report(health.Down)
	}
	status := health.OK
	if s.Dead > 0 {
		status = health.Degraded
	}
	if !q.Running() {
		status = health.Down
	}
	r := q.state.tracker.Report(status)
	r.Details = map[string]any{
		"waiting": s.Waiting, "in_flight": s.InFlight, "dead_letters": s.Dead,
		"oldest_due_seconds": s.OldestDue.Seconds(), "workers_running": q.Running(),
		"workers": q.opts.Workers,
	}
	return r
}
