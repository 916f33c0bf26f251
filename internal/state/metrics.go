package state

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (s *Store) register(reg prometheus.Registerer) error {
	s.illegal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hnp_state_illegal_transitions_total",
		Help: "Transitions refused because DESIGN.md §7's table does not allow them.",
	})
	s.moves = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hnp_state_transitions_total",
		Help: "Applied transitions by from and to state (none: a record began; (end): it ended).",
	}, []string{"from", "to"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "hnp_sync_latency_seconds",
		Help: "Time from an object's change in NetBox (its last_updated, else the event's time, else when the webhook " +
			"arrived) to its commit being pushed (stage committed, by the replica that pushed) and to Argo CD reporting " +
			"it synced (stage synced, by the replica that saw it); each change once.",
		Buckets: latencyBuckets(),
	}, []string{"stage"})
	for _, c := range []prometheus.Collector{s.illegal, s.moves, s.latency, &gauge{s: s}} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("state: register metrics: %w", err)
		}
	}
	return nil
}

// latencyBuckets are hnp_sync_latency_seconds' buckets: 0.1s to 30min.
func latencyBuckets() []float64 {
	return []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800}
}

// observe measures an applied change: its commit latency when it pushed a
// NetBox change (Committed with ChangedAt), its sync latency when it
// reached synced with a change on its way (changed, the script's answer).
// A NetBox clock ahead of ours counts as 0.
func (s *Store) observe(c Change, changed string, now time.Time) {
	if c.Committed && !c.ChangedAt.IsZero() {
		s.latency.WithLabelValues("committed").Observe(max(0, now.Sub(c.ChangedAt).Seconds()))
	}
	if changed == "" {
		return
	}
	if at, err := time.Parse(time.RFC3339Nano, changed); err == nil {
		s.latency.WithLabelValues("synced").Observe(max(0, now.Sub(at).Seconds()))
	}
}

// gauge reports hnp_state_resources{fabric,state} from the counts in
// Redis, so every replica reports the same numbers.
type gauge struct{ s *Store }

var resourcesDesc = prometheus.NewDesc("hnp_state_resources",
	"Objects per GitOps state and fabric (fabric name, or id when unknown).", []string{"fabric", "state"}, nil)

func (g *gauge) Describe(ch chan<- *prometheus.Desc) { ch <- resourcesDesc }

func (g *gauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := g.s.Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(resourcesDesc, err)
		return
	}
	for fabric, byState := range counts {
		for _, st := range States {
			ch <- prometheus.MustNewConstMetric(resourcesDesc, prometheus.GaugeValue, float64(byState[st]), fabric, string(st))
		}
	}
}

// Counts returns the number of records per state, by fabric name (or id).
func (s *Store) Counts(ctx context.Context) (map[string]map[State]int, error) {
	fabrics, err := s.Fabrics(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]map[State]int{}
	for id, name := range fabrics {
		raw, err := s.rdb.HGetAll(ctx, s.counts(id)).Result()
		if err != nil {
			return nil, fmt.Errorf("state: counts of fabric %d: %w", id, err)
		}
		if name == "" {
			name = strconv.FormatInt(id, 10)
		}
		byState := map[State]int{}
		for st, n := range raw {
			v, _ := strconv.Atoi(n)
			byState[State(st)] = v
		}
		out[name] = byState
	}
	return out, nil
}

// Meta is the store's health: when the last transition happened and how
// many were refused, over all replicas.
type Meta struct {
	LastTransition *time.Time `json:"last_transition,omitempty"`
	Illegal        int64      `json:"illegal_transitions"`
}

// Meta reads the store's health figures; an error means Redis is not
// reachable.
func (s *Store) Meta(ctx context.Context) (Meta, error) {
	raw, err := s.rdb.HGetAll(ctx, s.key("meta")).Result()
	if err != nil {
		return Meta{}, fmt.Errorf("state: meta: %w", err)
	}
	var m Meta
	if t, err := time.Parse(time.RFC3339Nano, raw["last_transition"]); err == nil {
		m.LastTransition = &t
	}
	m.Illegal, _ = strconv.ParseInt(raw["illegal"], 10, 64)
	return m, nil
}
