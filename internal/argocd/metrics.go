package argocd

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Sync results, hnp_argocd_syncs_total's result label, one per target
// (a fabric's pushed commit), its first attempt's outcome: ok (Argo CD
// applied the commit: its objects synced), failed (Argo CD's operation
// failed for some object: drifted, its message as the reason), timeout
// (not applied within HNP_ARGOCD_SYNC_TIMEOUT: back to committed), error
// (Argo CD or the cluster unreachable or refusing, an object that is not
// the sidecar's, the fabric's Argo CD refused). A target retried after a
// timeout or an error is not counted again, whatever its retry gives; a
// target left to a newer commit or to another replica before any outcome
// is not counted.
const (
	SyncOK      = "ok"
	SyncFailed  = "failed"
	SyncTimeout = "timeout"
	SyncError   = "error"
)

// errSyncTimeout: the commit was not applied within Options.Timeout.
var errSyncTimeout = errors.New("argocd: sync timed out")

func newSyncCounter() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hnp_argocd_syncs_total",
		Help: "Argo CD syncs of a fabric's pushed commit, counted once each by the outcome of its first attempt: ok, failed, timeout, error.",
	}, []string{"result"})
	for _, r := range []string{SyncOK, SyncFailed, SyncTimeout, SyncError} {
		c.WithLabelValues(r)
	}
	return c
}

// RegisterMetrics registers hnp_argocd_syncs_total on reg.
func (s *Syncer) RegisterMetrics(reg prometheus.Registerer) error {
	if err := reg.Register(s.syncs); err != nil {
		return fmt.Errorf("argocd: register metrics: %w", err)
	}
	return nil
}

// countFailure counts a target whose first attempt ended in err (not stopped).
func (s *Syncer) countFailure(err error) {
	if errors.Is(err, errSyncTimeout) {
		s.syncs.WithLabelValues(SyncTimeout).Inc()
		return
	}
	s.syncs.WithLabelValues(SyncError).Inc()
}
