package reconcile

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of one object's write-back, the label of
// hnp_writeback_patches_total.
const (
	patchOK       = "ok"       // NetBox saved it
	patchConflict = "conflict" // 412: the object changed since the version sent
	patchRefused  = "refused"  // NetBox refused the values (refused.go)
	patchGone     = "gone"     // 404: deleted meanwhile
	patchSkipped  = "skipped"  // not sent: NetBox already holds the values
)

func newPatchCounter() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hnp_writeback_patches_total",
		Help: "Objects' write-backs to NetBox by result: ok (saved), conflict (412: changed since the version sent), " +
			"refused (NetBox refused the values), gone (404), skipped (not sent: NetBox already holds the values)."},
		[]string{"result"})
	for _, r := range []string{patchOK, patchConflict, patchRefused, patchGone, patchSkipped} {
		c.WithLabelValues(r)
	}
	return c
}

// RegisterWriteBackMetrics registers the writer's counters with reg.
func (r *Reconciler) RegisterWriteBackMetrics(reg prometheus.Registerer) error {
	if err := reg.Register(r.writer.patches); err != nil {
		return fmt.Errorf("reconcile: register write-back metrics: %w", err)
	}
	return nil
}

// UseVersions keeps the objects' newest known versions in v (Redis, shared
// by the replicas) instead of in the process.
func (r *Reconciler) UseVersions(v Versions) { r.writer.versions = v }

func (w *writer) count(result string, n int) {
	if n > 0 {
		w.patches.WithLabelValues(result).Add(float64(n))
	}
}
