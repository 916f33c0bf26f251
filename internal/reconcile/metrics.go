package reconcile

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of a full reconcile, the label of hnp_reconcile_runs_total.
const (
	resultCommitted = "committed" // a new commit was pushed
	resultUnchanged = "unchanged" // Git already matched NetBox
	resultConfig    = "config_error"
	resultGone      = "fabric_gone"
	resultFailed    = "failed" // an outage or another error; retried
)

// WithMetrics counts the reconciler's runs with reg.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(r *Reconciler) {
		r.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hnp_reconcile_runs_total",
			Help: "Full reconciles of a fabric (NetBox read, rendered, Git written), by result: committed, unchanged, config_error, fabric_gone, failed."},
			[]string{"result"})
		r.metricsErr = reg.Register(r.runs)
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
