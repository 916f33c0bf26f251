package lease

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	acquire  *prometheus.CounterVec
	lost     prometheus.Counter
	replicas prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, held func() float64) (metrics, error) {
	m := metrics{
		acquire: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hnp_lease_acquisitions_total",
			Help: "Fabric lease requests: new (taken), held (already this replica's), other (another replica holds it), error."},
			[]string{"result"}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{Name: "hnp_lease_lost_total",
			Help: "Fabric leases this replica found taken over (expired while it held them); their runs fail their fence."}),
		replicas: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hnp_lease_replicas",
			Help: "Replicas alive at this replica's last heartbeat."}),
	}
	heldGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hnp_lease_fabrics",
		Help: "Fabric leases this replica holds."}, held)
	for _, c := range []prometheus.Collector{m.acquire, m.lost, m.replicas, heldGauge} {
		if err := reg.Register(c); err != nil {
			return metrics{}, fmt.Errorf("lease: register metrics: %w", err)
		}
	}
	return m, nil
}
