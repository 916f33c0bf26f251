package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	hints        *prometheus.CounterVec
	processed    *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	wait         prometheus.Histogram
	retries      prometheus.Counter
	deadLettered prometheus.Counter
	reclaimed    prometheus.Counter
	replicaWait  prometheus.Histogram
	unreplicated prometheus.Counter
	flushes      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, q *Queue) (*metrics, error) {
	m := &metrics{
		hints: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hnp_queue_hints_total",
			Help: "Hints recorded, by what they did to the queue (queued, coalesced, deferred).",
		}, []string{"result"}),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hnp_queue_processed_total",
			Help: "Handler runs, by outcome (success, retry, dead_letter, handed_back, lease_lost, settle_error).",
		}, []string{"result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hnp_queue_processing_duration_seconds",
			Help:    "Duration of one handler run, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"result"}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hnp_queue_wait_seconds",
			Help:    "Time from accepting a key's oldest hint to the start of its run.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hnp_queue_retries_total",
			Help: "Failed runs scheduled for a retry with backoff.",
		}),
		deadLettered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hnp_queue_dead_lettered_total",
			Help: "Keys moved to the dead-letter set.",
		}),
		reclaimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hnp_queue_reclaimed_total",
			Help: "Keys taken back from a worker whose lease expired.",
		}),
		replicaWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hnp_queue_replica_wait_seconds",
			Help:    "Time to record a hint and have HNP_REDIS_WAIT_REPLICAS replicas acknowledge it (only when waiting is on).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 12),
		}),
		unreplicated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hnp_queue_unreplicated_hints_total",
			Help: "Hints recorded on the primary that too few replicas acknowledged in time (answered 503).",
		}),
		flushes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hnp_queue_enqueue_flushes_total",
			Help: "Pipelines that recorded hints in Redis; hnp_queue_hints_total over this is the mean group size (group commit).",
		}),
	}
	for _, c := range []prometheus.Collector{m.replicaWait, m.unreplicated, m.flushes, m.hints, m.processed, m.duration, m.wait, m.retries, m.deadLettered, m.reclaimed, newSizeCollector(q)} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("queue: register metrics: %w", err)
		}
	}
	return m, nil
}

// sizeCollector reads the queue's sizes from Redis at scrape time.
type sizeCollector struct {
	q             *Queue
	depth, oldest *prometheus.Desc
}

func newSizeCollector(q *Queue) *sizeCollector {
	return &sizeCollector{
		q: q,
		depth: prometheus.NewDesc("hnp_queue_depth",
			"Keys in the queue, by state (waiting, in_flight, dead_letter).", []string{"state"}, nil),
		oldest: prometheus.NewDesc("hnp_queue_oldest_due_seconds",
			"How long the most overdue waiting key has been due.", nil, nil),
	}
}

func (c *sizeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
}

func (c *sizeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s, err := c.q.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depth, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Waiting), "waiting")
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.InFlight), "in_flight")
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Dead), "dead_letter")
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestDue.Seconds())
}
