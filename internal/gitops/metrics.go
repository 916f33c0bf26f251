package gitops

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Push results, hnp_git_pushes_total's result label: ok (a commit pushed),
// no_change (the content was already on the branch), rejected (a hook or
// a protected branch declined it), auth (credentials refused), conflict
// (the branch kept moving; retries exhausted), superseded (another writer
// changed the batch's paths, or the fabric's lease moved: the caller reads
// again; no failure), error (anything else: unreachable, 5xx, a refused
// URL, a missing repository, an open breaker).
const (
	PushOK         = "ok"
	PushNoChange   = "no_change"
	PushRejected   = "rejected"
	PushAuth       = "auth"
	PushConflict   = "conflict"
	PushSuperseded = "superseded"
	PushError      = "error"
)

func newPushCounter() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hnp_git_pushes_total",
		Help: "Git writes (one per batch: fetch, commit, push with its retries) by result: ok, no_change, rejected, auth, " +
			"conflict, superseded, error.",
	}, []string{"result"})
	for _, r := range []string{PushOK, PushNoChange, PushRejected, PushAuth, PushConflict, PushSuperseded, PushError} {
		c.WithLabelValues(r)
	}
	return c
}

// RegisterMetrics registers the writer's hnp_git_pushes_total on reg.
func (w *Writer) RegisterMetrics(reg prometheus.Registerer) error {
	if err := reg.Register(w.pushes); err != nil {
		return fmt.Errorf("gitops: register metrics: %w", err)
	}
	return nil
}

// countPush counts one Apply by its outcome; one the caller gave up on
// (its ctx ended: shutdown, the handler's deadline) is not counted.
func (w *Writer) countPush(ctx context.Context, res Result, err error) {
	if err != nil && ctx.Err() != nil {
		return
	}
	w.pushes.WithLabelValues(pushResult(res, err)).Inc()
}

func pushResult(res Result, err error) string {
	switch {
	case err == nil && res.Committed:
		return PushOK
	case err == nil:
		return PushNoChange
	case errors.Is(err, ErrMoved), errors.Is(err, ErrFenced):
		return PushSuperseded
	case errors.Is(err, ErrAuth):
		return PushAuth
	case errors.Is(err, ErrRejected):
		return PushRejected
	case errors.Is(err, ErrConflict):
		return PushConflict
	}
	return PushError
}
