package queue

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/health"
)

// unavailable is an error that says a dependency refuses calls for a while
// (breaker.OpenError).
type unavailable interface {
	error
	UnavailableFor() time.Duration
}

// process runs h for one claimed item and settles the key in Redis.
func (q *Queue) process(ctx context.Context, h Handler, it Item, token string) {
	defer q.state.release(it.Key)
	start := q.now()
	if first, ok := firstHint(it); ok {
		q.metrics.wait.Observe(start.Sub(first.ReceivedAt).Seconds())
	}
	log := q.logger.With("key", string(it.Key), "attempt", it.Attempt, "hints", len(it.Hints))
	if l, ok := it.Latest(); ok && l.RequestID != "" {
		log = log.With("request_id", l.RequestID)
	}

	hctx, cancel := context.WithTimeout(ctx, q.opts.HandlerTimeout)
	err := q.panics.Do("queue.handler", func() error { return h.Handle(hctx, it) })
	cancel()

	// Settle with a context of its own: the run's may have been cancelled.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer scancel()
	result := "success"
	var down unavailable
	switch {
	case err == nil:
		held, aerr := q.ack(sctx, it.Key, token)
		switch {
		case aerr != nil:
			result = "settle_error"
			q.state.failure(q.now(), aerr)
			log.Error("acknowledging run failed; the key will run again when its lease expires", "err", aerr)
		case !held:
			result = "lease_lost"
			log.Warn("lease was lost during the run; another worker runs the key again")
		default:
			q.state.success(q.now())
		}
	case ctx.Err() != nil:
		result = "handed_back"
		if _, rerr := q.release(sctx, it.Key, token, q.now(), false, it.Attempt, ""); rerr != nil {
			log.Error("handing back failed; the key will run again when its lease expires", "err", rerr)
		}
		log.Info("run interrupted by shutdown; key handed back")
	case errors.As(err, &down):
		// A dependency refuses calls for a while (an open circuit breaker):
		// no attempt is counted, so nothing is dead-lettered for that alone.
		result = "unavailable"
		delay := min(max(down.UnavailableFor(), q.opts.Backoff.Base), q.opts.Backoff.Max)
		if _, rerr := q.release(sctx, it.Key, token, q.now().Add(delay), false, it.Attempt, err.Error()); rerr != nil {
			result = "settle_error"
			log.Error("releasing the run failed; the key will run again when its lease expires", "err", rerr, "cause", err)
			break
		}
		log.Info("a dependency is unavailable; the key waits without counting an attempt", "err", err, "retry_in", delay.String())
	default:
		delay := q.opts.Backoff.Delay(it.Attempt)
		res, rerr := q.release(sctx, it.Key, token, q.now().Add(delay), true, it.Attempt, err.Error())
		if rerr != nil {
			result = "settle_error"
			log.Error("releasing failed run failed; the key will run again when its lease expires", "err", rerr, "cause", err)
			break
		}
		result = res.String()
		q.observeRelease(res)
		if res == deadLettered {
			log.Error("run failed; key dead-lettered", "err", err, "max_attempts", q.opts.MaxAttempts)
		} else {
			log.Warn("run failed; will retry", "err", err, "retry_in", delay.String())
		}
	}
	q.metrics.processed.WithLabelValues(result).Inc()
	q.metrics.duration.WithLabelValues(result).Observe(q.now().Sub(start).Seconds())
}

func (q *Queue) observeRelease(r releaseResult) {
	switch r {
	case requeued:
		q.metrics.retries.Inc()
	case deadLettered:
		q.metrics.deadLettered.Inc()
	}
}

func firstHint(it Item) (Hint, bool) {
	for _, h := range it.Hints {
		if !h.ReceivedAt.IsZero() {
			return h, true
		}
	}
	return Hint{}, false
}

// runState is what this process knows about its own workers.
type runState struct {
	mu      sync.Mutex
	running bool
	keys    map[Key]string
	tracker health.Tracker
}

func newRunState() *runState { return &runState{keys: map[Key]string{}} }

func (s *runState) start() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return false
	}
	s.running = true
	return true
}

func (s *runState) stop() {
	s.mu.Lock()
	s.running = false
	s.mu.Unlock()
}

func (s *runState) isRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

func (s *runState) hold(k Key, token string) {
	s.mu.Lock()
	s.keys[k] = token
	s.mu.Unlock()
}

func (s *runState) release(k Key) {
	s.mu.Lock()
	delete(s.keys, k)
	s.mu.Unlock()
}

func (s *runState) held() map[Key]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Key]string, len(s.keys))
	for k, t := range s.keys {
		out[k] = t
	}
	return out
}

func (s *runState) success(at time.Time)          { s.tracker.Success(at) }
func (s *runState) failure(at time.Time, e error) { s.tracker.Failure(at, e) }
