package install

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics count installations. A nil *Metrics counts nothing.
type Metrics struct {
	runs    *prometheus.CounterVec
	objects *prometheus.CounterVec
	phases  *prometheus.HistogramVec
	seconds prometheus.Histogram
}

// NewMetrics registers the installer's metrics with reg. Build them once
// (at start-up) and hand them to every New.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hnp_argocd_install_runs_total",
			Help: "Argo CD installations, by result (succeeded, unreachable, forbidden, bad_manifest, not_ready, failed).",
		}, []string{"result"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hnp_argocd_install_objects_total",
			Help: "Objects applied by Argo CD installations, by result (created, changed, unchanged).",
		}, []string{"result"}),
		phases: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hnp_argocd_install_phase_seconds",
			Help:    "Time of each phase of an Argo CD installation (prerequisites, manifest, crds, objects, workloads, application).",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
		}, []string{"phase"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hnp_argocd_install_seconds",
			Help:    "Time of a whole Argo CD installation, successful or not.",
			Buckets: prometheus.ExponentialBuckets(0.1, 3, 10),
		}),
	}
	for _, c := range []prometheus.Collector{m.runs, m.objects, m.phases, m.seconds} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("argocd install: register metrics: %w", err)
		}
	}
	return m, nil
}

// result is the runs_total label of an installation's error.
func result(err error) string {
	switch {
	case err == nil:
		return "succeeded"
	case errors.Is(err, ErrUnreachable):
		return "unreachable"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrBadManifest):
		return "bad_manifest"
	case errors.Is(err, ErrNotReady):
		return "not_ready"
	}
	return "failed"
}

func (m *Metrics) observe(res Result, err error, took time.Duration) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(result(err)).Inc()
	m.objects.WithLabelValues(Created.String()).Add(float64(res.Created))
	m.objects.WithLabelValues(Changed.String()).Add(float64(res.Changed))
	m.objects.WithLabelValues(Unchanged.String()).Add(float64(res.Unchanged))
	m.seconds.Observe(took.Seconds())
}

func (m *Metrics) phase(p Phase, took time.Duration) {
	if m == nil {
		return
	}
	m.phases.WithLabelValues(string(p)).Observe(took.Seconds())
}
