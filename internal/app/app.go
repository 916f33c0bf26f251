// Package app wires the service together and runs it: New builds every
// part from a config.Config (Redis, the queue and its workers, the NetBox
// client, the reconcile pipeline, Argo CD, drift detection, the webhook
// receiver and the HTTP API), Start starts them, Stop stops them in order.
// It is the only package that knows them all; it holds no logic of its own.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/panics"
	"github.com/githedgehog/hnp-sidecar/internal/placement"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	"github.com/githedgehog/hnp-sidecar/internal/webhook"
)

// App is one running hnp-sidecar.
type App struct {
	cfg    config.Config
	logger *slog.Logger
	reg    *prometheus.Registry
	rdb    redis.UniversalClient
	stores stores
	pipe   *pipeline // nil: NetBox not configured, or a handler given to New
	api    *api.Server
	server *http.Server
	panics *panics.Catcher

	handler     queue.Handler
	listener    net.Listener
	stopWorkers context.CancelFunc
	wg          sync.WaitGroup
	// stopLeases ends the fabric leases' renewals, after the workers: a
	// run finishing during shutdown keeps its lease to the end.
	stopLeases context.CancelFunc
	leasesDone chan struct{}
	errc       chan error
	stopOnce   sync.Once
}

// loopRestart is the pause before a background loop that panicked runs
// again.
const loopRestart = 5 * time.Second

// loop is a background loop of the pipeline, named for logs and metrics.
type loop struct {
	name string
	run  func(context.Context)
}

// stores are the sidecar's state in Redis, shared by every replica.
type stores struct {
	queue    *queue.Queue
	jobs     *jobs.Store
	states   *state.Store
	problems *problems.Store
}

// New builds the service from cfg. handler does the work for each key;
// when nil, keys are reconciled into Git if NetBox is configured
// (HNP_NETBOX_URL), else only logged. Nothing is started and no
// connection is made until Start.
func New(cfg config.Config, logger *slog.Logger, handler queue.Handler) (*App, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	rdb, err := redisClient(cfg)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, logger: logger, reg: reg, rdb: rdb, handler: handler, errc: make(chan error, 2)}
	if err := a.build(); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return a, nil
}

// build makes every part; New closes Redis when it fails.
func (a *App) build() error {
	cfg, logger, reg := a.cfg, a.logger, a.reg
	var err error
	if a.panics, err = panics.New(logger, reg); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	if a.stores.queue, err = queue.New(a.rdb, cfg.Queue, logger.With("component", "queue"), reg, queue.WithPanics(a.panics)); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	a.stores.jobs = jobs.New(a.rdb, cfg.RedisPrefix)
	if a.stores.states, err = state.New(a.rdb, state.Options{Prefix: cfg.RedisPrefix}, reg); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	if a.stores.problems, err = problems.New(a.rdb, cfg.RedisPrefix, reg); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	breakers, err := newBreakers(cfg, logger, reg)
	if err != nil {
		return err
	}
	nb, err := netboxClient(cfg, breakers)
	if err != nil {
		return err
	}
	if a.handler == nil && nb == nil {
		logger.Warn("HNP_NETBOX_URL is not set: hints are received and queued, then only logged; nothing is written to Git")
		a.handler = queue.LogHandler(logger.With("component", "handler"))
	}
	if a.handler == nil {
		if a.pipe, err = newPipeline(cfg, a.rdb, nb, a.stores, breakers, a.panics, reg, logger); err != nil {
			return err
		}
		a.handler = a.pipe.handler
	}
	recv, err := webhook.New(webhook.Options{
		Secret: []byte(cfg.WebhookSecret.Reveal()), PreviousSecret: []byte(cfg.WebhookSecretPrevious.Reveal()),
		MaxBodyBytes: cfg.WebhookMaxBodyBytes,
	}, a.stores.queue, logger.With("component", "webhook"), reg)
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	a.api = api.New(api.Parts{
		Logger: logger, APIToken: cfg.APIToken, Metrics: reg, Webhook: recv.Handle,
		Queue: a.stores.queue, Jobs: a.stores.jobs, States: a.stores.states,
		Health: a.healthComponents(recv, nb != nil, breakers), Guard: cfg.API, Panics: a.panics,
	})
	if nb != nil {
		a.api.NetBox = nb
		var places func(bool) *placement.Placer
		if a.pipe != nil {
			places = a.pipe.places
		} else { // a handler given by the caller: no pipeline, its clusters built here
			places = newPlaces(cfg, nb, newClusters(cfg, breakers, logger))
		}
		if a.api.Install, err = newInstaller(cfg, nb, places, reg, logger); err != nil {
			return err
		}
	}
	if a.pipe != nil {
		a.api.Drift = a.pipe.drift
	}
	a.server = &http.Server{
		Handler:           a.api.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // the on-demand drift check extends its own (api.Parts.DriftTimeout)
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return nil
}

// Start binds the listener and starts the HTTP server, the workers and the
// background loops (write-back, Argo CD syncer, drift, periodic reconcile).
func (a *App) Start(ctx context.Context) error {
	if a.cfg.WebhookSecret == "" {
		a.logger.Warn("HNP_WEBHOOK_ALLOW_UNSIGNED=true: webhooks are accepted without a signature; anyone who can reach the sidecar can queue work")
	}
	a.checkRedis(ctx)
	l, err := net.Listen("tcp", a.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("app: listen on %s (HNP_LISTEN_ADDR): %w", a.cfg.ListenAddr, err)
	}
	a.listener = l
	a.wg.Go(func() {
		if err := a.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.errc <- fmt.Errorf("app: http server: %w", err)
		}
	})
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopWorkers = cancel
	if a.pipe != nil {
		lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		a.stopLeases, a.leasesDone = stop, make(chan struct{})
		go func() {
			defer close(a.leasesDone)
			a.panics.Loop(lctx, "lease", loopRestart, a.pipe.leases.Run)
		}()
	}
	a.wg.Go(func() {
		if err := a.panics.Do("queue.run", func() error { return a.stores.queue.Run(wctx, a.handler) }); err != nil {
			a.errc <- fmt.Errorf("app: workers: %w", err)
		}
	})
	if a.pipe != nil {
		loops := a.pipe.background
		if a.cfg.ReconcileInterval > 0 {
			p := reconcile.NewPeriodic(a.pipe.nb, a.stores.queue, a.cfg.ReconcileInterval, a.logger.With("component", "periodic")).
				WithCoverage(a.pipe.leases)
			loops = append(loops, loop{"reconcile.periodic", p.Run})
		}
		for _, l := range loops {
			a.wg.Go(func() { a.panics.Loop(wctx, l.name, loopRestart, l.run) })
		}
	}
	a.logger.Info("hnp-sidecar started", "addr", l.Addr().String(), "config", a.cfg)
	return nil
}

// Addr is the address the HTTP server listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Err delivers a fatal error of a running component.
func (a *App) Err() <-chan error { return a.errc }

// Stop shuts down in order: stop accepting requests and let those being
// answered finish; cancel running installations; let running work finish
// or hand it back; close Redis. ctx bounds the whole shutdown.
func (a *App) Stop(ctx context.Context) error {
	var errs []error
	a.stopOnce.Do(func() {
		a.logger.Info("hnp-sidecar stopping")
		if err := a.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("app: stop http server: %w", err))
		}
		if err := a.api.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("app: stop installations: %w", err))
		}
		if a.stopWorkers != nil {
			a.stopWorkers()
		}
		done := make(chan struct{})
		go func() { a.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("app: stop workers: %w", ctx.Err()))
		}
		if a.stopLeases != nil {
			a.stopLeases()
			<-a.leasesDone
			// this replica's fabrics move at once, even when ctx is spent
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			a.pipe.leases.Stop(sctx)
			cancel()
		}
		if err := a.rdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("app: close redis: %w", err))
		}
		a.logger.Info("hnp-sidecar stopped")
	})
	return errors.Join(errs...)
}
