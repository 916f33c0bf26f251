package drift

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	checks  *prometheus.CounterVec
	seconds prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hnp_kube_drift_checks_total",
			Help: "Drift checks of a fabric's cluster, by result (ok, error, no_cluster)."}, []string{"result"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hnp_kube_drift_check_seconds",
			Help: "Time to check one fabric's cluster for drift.", Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10)}),
	}
	for _, c := range []prometheus.Collector{m.checks, m.seconds} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("kube: metrics: %w", err)
		}
	}
	return m, nil
}
