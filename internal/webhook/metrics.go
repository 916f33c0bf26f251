package webhook

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	received *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hnp_webhooks_received_total",
			Help: "NetBox webhooks received, by result (accepted, ignored, unauthorized, malformed, too_large, unavailable, unreplicated: recorded but not acknowledged by HNP_REDIS_WAIT_REPLICAS replicas).",
		}, []string{"result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hnp_webhooks_duration_seconds",
			Help:    "Time to answer a NetBox webhook, by result.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 10),
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.received, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("webhook: register metrics: %w", err)
		}
	}
	return m, nil
}
