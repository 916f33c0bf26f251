package argocd

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// InstallMetrics count installations. A nil *InstallMetrics counts nothing.
type InstallMetrics struct {
	runs    *prometheus.CounterVec
	objects *prometheus.CounterVec
	phases  *prometheus.HistogramVec
	seconds prometheus.Histogram
}

// NewInstallMetrics registers the installer's metrics with reg; when
// they are registered already (another installer), it uses those.
func NewInstallMetrics(reg prometheus.Registerer) (*InstallMetrics, error) {
	m := &InstallMetrics{
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
	var err error
	if m.runs, err = register(reg, m.runs); err != nil {
		return nil, err
	}
	if m.objects, err = register(reg, m.objects); err != nil {
		return nil, err
	}
	if m.phases, err = register(reg, m.phases); err != nil {
		return nil, err
	}
	if m.seconds, err = register(reg, m.seconds); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector registered already.
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("argocd install: register metrics: %w", err)
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

func (m *InstallMetrics) observe(res InstallResult, err error, took time.Duration) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(result(err)).Inc()
	m.objects.WithLabelValues(Created.String()).Add(float64(res.Created))
	m.objects.WithLabelValues(Changed.String()).Add(float64(res.Changed))
	m.objects.WithLabelValues(Unchanged.String()).Add(float64(res.Unchanged))
	m.seconds.Observe(took.Seconds())
}

func (m *InstallMetrics) phase(p Phase, took time.Duration) {
	if m == nil {
		return
	}
	m.phases.WithLabelValues(string(p)).Observe(took.Seconds())
}
