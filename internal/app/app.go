// Package app wires the service together: configuration, Redis, the queue
// and its workers, the webhook receiver and the HTTP routes, and their
// start and orderly stop. It is the only package that knows them all.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/kube"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	"github.com/githedgehog/hnp-sidecar/internal/webhook"
)

// App is one running hnp-sidecar.
type App struct {
	cfg     Config
	logger  *slog.Logger
	reg     *prometheus.Registry
	rdb     *redis.Client
	queue   *queue.Queue
	recv    *webhook.Receiver
	handler queue.Handler
	server  *http.Server

	listener    net.Listener
	stopWorkers context.CancelFunc
	wg          sync.WaitGroup
	errc        chan error
	stopOnce    sync.Once
	// nb is set when NetBox is configured; it feeds the periodic reconcile
	// and the re-sync API.
	nb     *netbox.Client
	nbAuth netboxAuth
	jobs   *jobs.Store
	states *state.Store
	// background runs next to the workers (the NetBox write-back).
	background []func(context.Context)
	argo       *argoParts     // nil: Argo CD not configured
	drift      *kube.Detector // nil: NetBox not configured
	breakers   *breaker.Set
	problems   *problems.Store
}

// New builds the service from cfg. handler does the work for each key;
// when nil, keys are reconciled into Git if NetBox is configured
// (HNP_NETBOX_URL), else only logged. Nothing is started and no
// connection is made until Start.
func New(cfg Config, logger *slog.Logger, handler queue.Handler) (*App, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// One circuit breaker per dependency and remote (Git, Argo CD,
	// Kubernetes, NetBox): an open one makes work wait, never fail.
	bopts := breaker.DefaultOptions()
	if cfg.Breakers.ConsecutiveFailures > 0 {
		bopts.ConsecutiveFailures = cfg.Breakers.ConsecutiveFailures
	}
	if cfg.Breakers.OpenTimeout > 0 {
		bopts.OpenTimeout = cfg.Breakers.OpenTimeout
	}
	breakers, err := breaker.NewSet(logger.With("component", "breaker"), reg, bopts)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	var nb *netbox.Client
	if cfg.NetBox.URL != "" {
		nb, err = netbox.New(netbox.Options{URL: cfg.NetBox.URL, Token: cfg.NetBox.Token.Reveal(), UserAgent: "hnp-sidecar",
			HTTPClient: breakerClient(breakers, breaker.NetBox, &http.Client{Timeout: 30 * time.Second},
				// A database constraint refusing a write-back is NetBox
				// answering, not NetBox being down.
				breaker.NeutralAnswer(netbox.ConstraintAnswer))})
		if err != nil {
			return nil, fmt.Errorf("app: HNP_NETBOX_URL/HNP_NETBOX_TOKEN: %w", err)
		}
	}
	ropts, err := redis.ParseURL(cfg.RedisURL.Reveal())
	if err != nil {
		return nil, errors.New("app: HNP_REDIS_URL: not a valid Redis URL") // err may echo the password
	}
	ropts.DialTimeout, ropts.ReadTimeout, ropts.WriteTimeout = 5*time.Second, 3*time.Second, 3*time.Second
	if ropts.PoolSize == 0 {
		// Every webhook being answered holds a connection for one script
		// call; go-redis's default (10 per CPU) makes webhooks queue for
		// connections on a small pod. pool_size in the URL overrides this.
		ropts.PoolSize = 128
	}
	rdb := redis.NewClient(ropts)
	q, err := queue.New(rdb, cfg.Queue, logger.With("component", "queue"), reg)
	if err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	js := jobs.New(rdb, cfg.RedisPrefix)
	states, err := state.New(rdb, state.Options{Prefix: cfg.RedisPrefix}, reg)
	if err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	probs, err := problems.New(rdb, cfg.RedisPrefix, reg)
	if err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	var background []func(context.Context)
	var argo *argoParts
	var drift *kube.Detector
	if handler == nil && nb != nil {
		if argo, err = buildArgo(cfg, states, q, breakers, logger); err != nil {
			_ = rdb.Close()
			return nil, err
		}
	}
	if handler == nil {
		if handler, background, drift, err = defaultHandler(cfg, nb, js, states, probs, argo, q, breakers, reg, logger); err != nil {
			_ = rdb.Close()
			return nil, err
		}
	}
	recv, err := webhook.New(webhook.Options{
		Secret: []byte(cfg.WebhookSecret.Reveal()), PreviousSecret: []byte(cfg.WebhookSecretPrevious.Reveal()),
		MaxBodyBytes: cfg.WebhookMaxBodyBytes,
	}, q, logger.With("component", "webhook"), reg)
	if err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	a := &App{
		cfg: cfg, logger: logger, reg: reg, rdb: rdb, queue: q, recv: recv,
		handler: handler, errc: make(chan error, 2), nb: nb, jobs: js, states: states, background: background, argo: argo,
		drift: drift, breakers: breakers, problems: probs,
	}
	a.server = &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// Start binds the listener and starts the HTTP server and the workers.
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
	a.wg.Go(func() {
		if err := a.queue.Run(wctx, a.handler); err != nil {
			a.errc <- fmt.Errorf("app: workers: %w", err)
		}
	})
	for _, run := range a.background {
		a.wg.Go(func() { run(wctx) })
	}
	if a.nb != nil && a.cfg.ReconcileInterval > 0 {
		p := reconcile.NewPeriodic(a.nb, a.queue, a.cfg.ReconcileInterval, a.logger.With("component", "periodic"))
		a.wg.Go(func() { p.Run(wctx) })
	}
	a.logger.Info("hnp-sidecar started", "addr", l.Addr().String(), "config", a.cfg)
	return nil
}

// Addr is the address the HTTP server listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Err delivers a fatal error of a running component.
func (a *App) Err() <-chan error { return a.errc }

// Stop shuts down in order: stop accepting webhooks and let those being
// answered finish; let running work finish or hand it back; close Redis.
// ctx bounds the whole shutdown.
func (a *App) Stop(ctx context.Context) error {
	var errs []error
	a.stopOnce.Do(func() {
		a.logger.Info("hnp-sidecar stopping")
		if err := a.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("app: stop http server: %w", err))
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
		if err := a.rdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("app: close redis: %w", err))
		}
		a.logger.Info("hnp-sidecar stopped")
	})
	return errors.Join(errs...)
}

// checkRedis warns when Redis would lose accepted hints on a restart.
func (a *App) checkRedis(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		a.logger.Warn("redis is not reachable yet; webhooks get 503 until it is", "err", err)
		return
	}
	aof, err := a.rdb.ConfigGet(ctx, "appendonly").Result()
	if err != nil {
		return // CONFIG may be disabled on managed Redis
	}
	save, _ := a.rdb.ConfigGet(ctx, "save").Result()
	if aof["appendonly"] != "yes" && save["save"] == "" {
		a.logger.Warn("redis has no persistence (appendonly no, save \"\"): hints accepted but not yet processed are lost if Redis restarts; the periodic full reconcile is then the only backstop")
	}
}

// argoDefaults complete the fabrics' Applications from the configuration,
// with the Git credentials Argo CD reads the repositories with.
func argoDefaults(cfg Config) (reconcile.ArgoDefaults, error) {
	defaults := reconcile.ArgoDefaults{Namespace: cfg.Argo.Namespace, Project: cfg.Argo.Project,
		DestServer: cfg.Argo.DestServer, DestNamespace: cfg.Argo.DestNS}
	if cfg.Argo.RepositoryFromCreds {
		defaults.Repo = argocd.Repository{Username: cfg.Git.Username, Password: cfg.Git.Token.Reveal()}
		if cfg.Git.SSHKeyFile != "" {
			key, err := os.ReadFile(cfg.Git.SSHKeyFile)
			if err != nil {
				return defaults, fmt.Errorf("HNP_GIT_SSH_KEY_FILE: %w", err)
			}
			defaults.Repo.SSHPrivateKey = string(key)
		}
	}
	return defaults, nil
}

// defaultHandler reconciles into Git when NetBox is configured (nb set).
// Its background tasks run next to the workers.
func defaultHandler(cfg Config, nb *netbox.Client, js *jobs.Store, states *state.Store, probs *problems.Store, argo *argoParts,
	q reconcile.Enqueuer, breakers *breaker.Set, reg prometheus.Registerer, logger *slog.Logger) (queue.Handler, []func(context.Context), *kube.Detector, error) {
	if nb == nil {
		logger.Warn("HNP_NETBOX_URL is not set: hints are received and queued, then only logged; nothing is written to Git")
		return LogHandler(logger.With("component", "handler")), nil, nil, nil
	}
	writer, err := gitops.New(gitops.Options{
		WorkDir: cfg.Git.WorkDir,
		Credentials: gitops.Credentials{Username: cfg.Git.Username, Token: cfg.Git.Token.Reveal(),
			SSHKeyFile: cfg.Git.SSHKeyFile},
	}, logger.With("component", "git"))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: HNP_GIT_WORKDIR: %w", err)
	}
	git := breakerGit{w: writer, set: breakers}
	opts := []reconcile.Option{reconcile.WithStates(states), reconcile.WithProblems(probs)}
	if cfg.WriteBack {
		opts = append(opts, reconcile.WithWriteBack(nb),
			reconcile.WithRequeue(reconcile.ResyncFabric(q, logger.With("component", "reconcile"))))
	}
	var background []func(context.Context)
	if argo != nil {
		defaults, err := argoDefaults(cfg)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("app: %w", err)
		}
		opts = append(opts, reconcile.WithDeployer(argo.syncer, defaults))
		background = append(background, argo.syncer.Run)
	}
	r := reconcile.New(nb, git, reconcile.Defaults{GitURL: cfg.Git.DefaultURL, GitBranch: cfg.Git.DefaultBranch},
		logger.With("component", "reconcile"), opts...)
	drift, err := kube.New(r, states, driftClusters(cfg, argo, breakers, logger), kube.Options{Interval: cfg.DriftInterval,
		HeartbeatMaxAge: cfg.DriftHeartbeatMaxAge}, reconcile.ResyncFabric(q, logger.With("component", "drift")),
		logger.With("component", "drift"), reg)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: %w", err)
	}
	return reconcile.NewHandler(r, nb, js), append(background, r.RunWriteBack, drift.Run), drift, nil
}
