package webhook

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	received *prometheus.CounterVec
	duration *prometheus.HistogramVec
	byResult map[string]resultMetrics // the children of every result, made once
}

// results are the values of the result label.
var results = []string{"accepted", "ignored", "own_change", "unauthorized", "malformed", "too_large", "unavailable", "unreplicated"}

type resultMetrics struct {
	received prometheus.Counter
	duration prometheus.Observer
}

// of returns the metrics of result without a label lookup.
func (m *metrics) of(result string) resultMetrics {
	if rm, ok := m.byResult[result]; ok {
		return rm
	}
	return resultMetrics{m.received.WithLabelValues(result), m.duration.WithLabelValues(result)}
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
	m.byResult = make(map[string]resultMetrics, len(results))
	for _, r := range results {
		m.byResult[r] = resultMetrics{m.received.WithLabelValues(r), m.duration.WithLabelValues(r)}
	}
	for _, c := range []prometheus.Collector{m.received, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("webhook: register metrics: %w", err)
		}
	}
	return m, nil
}
