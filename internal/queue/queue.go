package queue

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/panics"
)

// Options tunes the queue. Zero values take the defaults of DefaultOptions.
type Options struct {
	// Prefix namespaces the Redis keys; it becomes a Cluster hash tag.
	Prefix string
	// Workers is how many keys this process handles at once.
	Workers int
	// MaxAttempts failed runs in a row dead-letter a key.
	MaxAttempts int
	// Backoff spaces the retries of a failing key.
	Backoff Backoff
	// CoalesceWindow delays a new key so hints arriving together (a bulk
	// edit, a burst of saves) are handled as one run.
	CoalesceWindow time.Duration
	// Lease is how long a claimed key stays with a worker that stops
	// renewing it (because its process died) before others take it back.
	Lease time.Duration
	// PollInterval bounds how long an idle worker pool waits before looking
	// for due keys that another process queued.
	PollInterval time.Duration
	// HandlerTimeout bounds one run of the handler.
	HandlerTimeout time.Duration
	// ShutdownGrace is how long Run lets running handlers finish after its
	// context ends; after that they are cancelled and their keys handed back.
	ShutdownGrace time.Duration
	// MaxHintsPerKey caps the hints kept for one waiting key (the newest win).
	MaxHintsPerKey int
	// WaitReplicas is how many replicas must acknowledge a hint (Redis
	// WAIT) before Enqueue returns nil; 0 does not wait. Fewer within
	// WaitTimeout make Enqueue return ErrNotReplicated.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas acknowledgements.
	WaitTimeout time.Duration
	// EnqueueBatch caps the hints sent to Redis in one pipeline (batch.go);
	// 1 sends every hint on its own.
	EnqueueBatch int
}

// DefaultOptions are the production defaults.
func DefaultOptions() Options {
	return Options{
		Prefix: "hnp", Workers: 4, MaxAttempts: 8,
		Backoff:        Backoff{Base: time.Second, Max: 5 * time.Minute},
		CoalesceWindow: 250 * time.Millisecond, Lease: 30 * time.Second,
		PollInterval: time.Second, HandlerTimeout: 2 * time.Minute,
		ShutdownGrace: 20 * time.Second, MaxHintsPerKey: 32,
		WaitTimeout: 500 * time.Millisecond, EnqueueBatch: 256,
	}
}

func (o Options) validate() error {
	var errs []error
	check := func(ok bool, msg string) {
		if !ok {
			errs = append(errs, errors.New(msg))
		}
	}
	check(o.Prefix != "", "prefix must not be empty")
	check(o.Workers >= 1 && o.Workers <= 1024, "workers must be 1..1024")
	check(o.MaxAttempts >= 1, "max attempts must be >= 1")
	check(o.Backoff.Base > 0 && o.Backoff.Max >= o.Backoff.Base, "backoff base must be > 0 and <= max")
	check(o.CoalesceWindow >= 0, "coalesce window must be >= 0")
	check(o.Lease >= 100*time.Millisecond, "lease must be >= 100ms")
	check(o.PollInterval > 0, "poll interval must be > 0")
	check(o.HandlerTimeout > 0, "handler timeout must be > 0")
	check(o.ShutdownGrace >= 0, "shutdown grace must be >= 0")
	check(o.MaxHintsPerKey >= 1, "max hints per key must be >= 1")
	check(o.WaitReplicas >= 0 && o.WaitReplicas <= 16, "wait replicas must be 0..16")
	check(o.WaitReplicas == 0 || o.WaitTimeout >= time.Millisecond, "wait timeout must be >= 1ms")
	check(o.EnqueueBatch >= 1 && o.EnqueueBatch <= 10_000, "enqueue batch must be 1..10000")
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("queue: options: %w", err)
	}
	return nil
}

// Queue is the Redis-backed work queue. Enqueue may be called from any
// goroutine; Run consumes it.
type Queue struct {
	rdb     redis.UniversalClient
	opts    Options
	keys    keys
	logger  *slog.Logger
	metrics *metrics
	now     func() time.Time
	wake    chan struct{}
	nextDue atomic.Int64 // ms; when the dispatcher looks next, 0 if unknown
	state   *runState
	panics  *panics.Catcher
	batch   *batcher
}

// Option adds a dependency to a Queue.
type Option func(*Queue)

// WithPanics records the handlers' panics (logged with the stack, counted)
// on c; without it a panic still only fails its key.
func WithPanics(c *panics.Catcher) Option { return func(q *Queue) { q.panics = c } }

// New builds a queue on rdb. Metrics are registered on reg.
func New(rdb redis.UniversalClient, opts Options, logger *slog.Logger, reg prometheus.Registerer, with ...Option) (*Queue, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	q := &Queue{
		rdb: rdb, opts: opts, keys: newKeys(opts.Prefix), logger: logger,
		now: time.Now, wake: make(chan struct{}, 1), state: newRunState(),
	}
	q.batch = &batcher{max: opts.EnqueueBatch, flights: enqueueFlights, flush: q.flushEnqueues, noDeadline: 10 * time.Second}
	for _, o := range with {
		o(q)
	}
	m, err := newMetrics(reg, q)
	if err != nil {
		return nil, err
	}
	q.metrics = m
	return q, nil
}

// notify tells the dispatcher of this process that a key is due at due.
// It wakes it, without blocking, unless it already plans to look by then:
// a burst of hints then costs no extra claims.
func (q *Queue) notify(due time.Time) {
	d := ms(due)
	for {
		cur := q.nextDue.Load()
		if cur != 0 && cur <= d {
			return
		}
		if q.nextDue.CompareAndSwap(cur, d) {
			break
		}
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
