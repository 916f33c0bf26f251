package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/drift"
	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/lease"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/panics"
	"github.com/githedgehog/hnp-sidecar/internal/placement"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// pipeline is the data path of a sidecar with NetBox: the queue's handler
// (reconcile), the Argo CD side, drift detection, and the loops that run
// next to the workers.
type pipeline struct {
	nb      *netbox.Client
	rec     *reconcile.Reconciler
	handler queue.Handler
	argo    *argoParts // nil: Argo CD not configured
	// access is which Git remotes may be reached, with which credentials
	// (Argo CD's repository credentials: access.CredentialsFor(url)).
	access *gitaccess.Policy
	drift  *drift.Detector
	// leases decide which replica writes each fabric.
	leases *lease.Manager
	// visibility checks what the sidecar's NetBox token can see.
	visibility *netbox.VisibilityChecker
	// places says where each fabric's Argo CD is (and where it is installed).
	places     func(defaultArgo bool) *placement.Placer
	background []loop
}

func newPipeline(cfg config.Config, rdb redis.UniversalClient, nb *netbox.Client, st stores, breakers *breaker.Set, catcher *panics.Catcher, reg prometheus.Registerer,
	logger *slog.Logger) (*pipeline, error) {
	p := &pipeline{nb: nb}
	access, err := cfg.Git.Access()
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	for _, w := range access.Warnings() {
		logger.Warn(w, "component", "git")
	}
	p.access = access
	writer, err := gitops.New(gitops.Options{
		WorkDir: cfg.Git.WorkDir, Access: access,
		CloneCacheMax: cfg.Git.CloneCacheMax, CloneMaxIdle: cfg.Git.CloneMaxIdle,
		Guard:         breakers.Guard(breaker.Git),
		SSHKnownHosts: cfg.Git.SSHKnownHosts, CABundle: cfg.Git.CABundle,
	}, logger.With("component", "git"))
	if err != nil {
		return nil, fmt.Errorf("app: HNP_GIT_WORKDIR: %w", err)
	}
	if err := writer.RegisterMetrics(reg); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if p.leases, err = lease.New(rdb, lease.Options{Prefix: cfg.RedisPrefix, TTL: cfg.LeaseTTL}, logger.With("component", "lease"), reg); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	// What Argo CD and drift detection move reaches NetBox directly.
	show := func(ctx context.Context, fabric int64, keys []state.Key) { p.rec.ShowStates(ctx, fabric, keys) }
	argoDefaults := argoDefaults(cfg, access, logger)
	clusters := newClusters(cfg, breakers, logger)
	p.places = newPlaces(cfg, nb, clusters)
	if p.argo, err = newArgo(cfg, st.states, show, breakers, catcher, logger, rdb, leaseOwner{p.leases}, argoDefaults.RepoCredentials,
		p.places); err != nil {
		return nil, err
	}
	if p.argo != nil {
		argoDefaults.Place = p.argo.places.Destination
	}
	opts := []reconcile.Option{reconcile.WithStates(st.states), reconcile.WithProblems(st.problems), reconcile.WithMetrics(reg),
		reconcile.WithOverlapCheck(nb, st.queue), reconcile.WithMaxDeleteFraction(cfg.MaxDeleteFraction),
		reconcile.WithDeleteEvidence(st.queue), reconcile.WithSnapshots(known.New(rdb, cfg.RedisPrefix)),
		reconcile.WithChangeHints(st.queue)}
	if cfg.WriteBack {
		opts = append(opts, reconcile.WithWriteBack(nb))
	}
	if p.argo != nil {
		if err := p.argo.syncer.RegisterMetrics(reg); err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		opts = append(opts, reconcile.WithDeployer(p.argo.syncer, argoDefaults))
		p.background = append(p.background, loop{"argocd.syncer", p.argo.syncer.Run})
	}
	p.rec = reconcile.New(nb, writer, reconcile.Defaults{GitURL: cfg.Git.DefaultURL, GitBranch: cfg.Git.DefaultBranch, Access: access},
		logger.With("component", "reconcile"), opts...)
	if err := p.rec.Err(); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	// Each object's newest known version is in Redis, so a fabric's next
	// lease holder writes back against what the previous one wrote.
	p.rec.UseVersions(reconcile.NewRedisVersions(rdb, cfg.RedisPrefix))
	if err := p.rec.RegisterWriteBackMetrics(reg); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	p.drift, err = drift.New(p.rec, st.states, clusters, drift.Options{Interval: cfg.DriftInterval,
		HeartbeatMaxAge: cfg.DriftHeartbeatMaxAge, Redis: rdb, Prefix: cfg.RedisPrefix, Owner: p.leases}, show,
		logger.With("component", "drift"), reg)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	p.handler = reconcile.NewHandler(p.rec, nb, st.jobs).WithLeases(p.leases).WithIncremental(st.queue, cfg.IncrementalMaxBacklog)
	p.visibility = newVisibility(nb, st.states, cfg.ReconcileInterval, logger.With("component", "netbox"))
	p.background = append(p.background, loop{"netbox.visibility", func(ctx context.Context) { _ = p.visibility.Run(ctx) }},
		loop{"reconcile.writeback", p.rec.RunWriteBack}, loop{"drift", p.drift.Run})
	return p, nil
}

// argoDefaults complete the fabrics' Applications from the configuration,
// with the Git credentials Argo CD reads the repositories with.
func argoDefaults(cfg config.Config, access *gitaccess.Policy, logger *slog.Logger) reconcile.ArgoDefaults {
	defaults := reconcile.ArgoDefaults{Namespace: cfg.Argo.Namespace, Project: cfg.Argo.Project,
		DestServer: cfg.Argo.DestServer, DestNamespace: cfg.Argo.DestNS}
	if cfg.Argo.RepositoryFromCreds && access != nil {
		defaults.RepoCredentials = func(url string) argocd.Repository {
			c, err := access.CredentialsFor(url)
			if err != nil {
				return argocd.Repository{}
			}
			repo := argocd.Repository{Username: c.Username, Password: c.Token}
			if c.SSHKeyFile != "" {
				key, err := c.SSHKeyPEM() // decrypted: Argo CD takes no passphrase
				if err != nil {
					logger.Warn("Argo CD gets no SSH key for the repository: the key file cannot be read", "url", url, "err", err)
					return argocd.Repository{}
				}
				repo.SSHPrivateKey = string(key)
			}
			return repo
		}
	}
	return defaults
}
