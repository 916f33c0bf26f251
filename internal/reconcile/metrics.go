package reconcile

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/lease"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// Results of a full reconcile, the label of hnp_reconcile_runs_total.
const (
	resultCommitted = "committed" // a new commit was pushed
	resultUnchanged = "unchanged" // Git already matched NetBox
	resultConfig    = "config_error"
	resultGone      = "fabric_gone"
	resultFailed    = "failed" // an outage or another error; retried
	resultFenced    = "fenced" // the fabric's lease moved to another replica mid-run
)

// WithMetrics counts the reconciler's runs with reg.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(r *Reconciler) {
		r.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hnp_reconcile_runs_total",
			Help: "Reconciles of a fabric, by mode (full: every object listed from NetBox; incremental: one object read by id, the rest from the fabric's snapshot) " +
				"and result: committed, unchanged, config_error, fabric_gone, fenced (the fabric's lease moved mid-run), failed. " +
				"An incremental run that hands over to a full one is counted in hnp_reconcile_full_fallbacks_total, not here."},
			[]string{"mode", "result"})
		r.fallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hnp_reconcile_full_fallbacks_total",
			Help: "Incremental runs that handed over to a full reconcile, by reason (no_snapshot, fabric_changed, refused, other_fabric, renamed, dependents, git_moved, unknown_object, snapshot_stale, backlog)."},
			[]string{"reason"})
		r.guarded = prometheus.NewCounter(prometheus.CounterOpts{Name: "hnp_reconcile_guard_refusals_total",
			Help: "Runs the mass-deletion guard refused (HNP_MAX_DELETE_FRACTION): more removals than allowed without a delete webhook."})
		r.moved = prometheus.NewCounter(prometheus.CounterOpts{Name: "hnp_reconcile_moved_rereads_total",
			Help: "Runs started over because another writer changed the fabric's files in Git after the run began reading NetBox."})
		r.metricsErr = errors.Join(reg.Register(r.runs), reg.Register(r.fallbacks), reg.Register(r.guarded), reg.Register(r.moved))
	}
}

// countIncremental counts an incremental run, or its hand-over to a full
// one by reason.
func (r *Reconciler) countIncremental(res FabricResult, err error) {
	var nf *NeedFullError
	if errors.As(err, &nf) {
		r.Fallback(nf.Reason)
		return
	}
	r.count(modeIncremental, res, err)
}

// Fallback counts a full reconcile run instead of an incremental one.
func (r *Reconciler) Fallback(reason string) {
	if r.fallbacks != nil {
		r.fallbacks.WithLabelValues(reason).Inc()
	}
}

// Modes of a run.
const (
	modeFull        = "full"
	modeIncremental = "incremental"
)

// countRun counts one full run by its outcome.
func (r *Reconciler) countRun(res FabricResult, err error) { r.count(modeFull, res, err) }

func (r *Reconciler) count(mode string, res FabricResult, err error) {
	if r.runs == nil {
		return
	}
	result := resultUnchanged
	switch {
	case errors.Is(err, ErrFabricConfig):
		result = resultConfig
	case errors.Is(err, ErrFabricGone):
		result = resultGone
	case errors.Is(err, gitops.ErrFenced) || errors.Is(err, lease.ErrLost) || errors.Is(err, state.ErrFenced):
		result = resultFenced
	case err != nil:
		result = resultFailed
	case res.Committed:
		result = resultCommitted
	}
	r.runs.WithLabelValues(mode, result).Inc()
}

// Err is the error of building the reconciler's options (a metric that
// could not be registered).
func (r *Reconciler) Err() error {
	if r.metricsErr != nil {
		return fmt.Errorf("reconcile: register metrics: %w", r.metricsErr)
	}
	return nil
}
