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
			Help: "Full reconciles of a fabric (NetBox read, rendered, Git written), by result: committed, unchanged, config_error, fabric_gone, fenced (the fabric's lease moved mid-run), failed."},
			[]string{"result"})
		r.guarded = prometheus.NewCounter(prometheus.CounterOpts{Name: "hnp_reconcile_guard_refusals_total",
			Help: "Runs the mass-deletion guard refused (HNP_MAX_DELETE_FRACTION): more removals than allowed without a delete webhook."})
		r.moved = prometheus.NewCounter(prometheus.CounterOpts{Name: "hnp_reconcile_moved_rereads_total",
			Help: "Runs started over because another writer changed the fabric's files in Git after the run began reading NetBox."})
		r.metricsErr = errors.Join(reg.Register(r.runs), reg.Register(r.guarded), reg.Register(r.moved))
	}
}

// countRun counts one run by its outcome.
func (r *Reconciler) countRun(res FabricResult, err error) {
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
	r.runs.WithLabelValues(result).Inc()
}

// Err is the error of building the reconciler's options (a metric that
// could not be registered).
func (r *Reconciler) Err() error {
	if r.metricsErr != nil {
		return fmt.Errorf("reconcile: register metrics: %w", r.metricsErr)
	}
	return nil
}
