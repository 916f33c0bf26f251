package breaker

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	transitions *prometheus.CounterVec
	failures    *prometheus.CounterVec
	rejected    *prometheus.CounterVec
}

// labels are dependency, one of four, remote, a host:port (see Remote), and
// extra.
func labels(extra ...string) []string {
	return append([]string{"dependency", "remote"}, extra...)
}

func newMetrics(reg prometheus.Registerer, s *Set) (*metrics, error) {
	if reg == nil {
		return nil, fmt.Errorf("breaker: a prometheus registerer is required")
	}
	m := &metrics{
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hnp_breaker_transitions_total",
			Help: "Circuit breaker state changes, by dependency, remote and the state changed to (closed, half_open, open).",
		}, labels("to")),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hnp_breaker_failures_total",
			Help: "Calls through a circuit breaker that counted as failures of the remote.",
		}, labels()),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hnp_breaker_rejected_total",
			Help: "Calls refused without being made because the circuit breaker was open or half-open.",
		}, labels()),
	}
	state := &stateCollector{set: s, desc: prometheus.NewDesc("hnp_breaker_state",
		"Circuit breaker state: 0 closed, 1 half-open, 2 open.", labels(), nil)}
	for _, c := range []prometheus.Collector{m.transitions, m.failures, m.rejected, state} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("breaker: register metrics: %w", err)
		}
	}
	return m, nil
}

// stateCollector reads each breaker's state when scraped, so an open breaker
// whose timeout passed shows as half-open without waiting for a call.
type stateCollector struct {
	set  *Set
	desc *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	for _, b := range c.set.all("") {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, b.State().gauge(), string(b.dep), b.remote)
	}
}
