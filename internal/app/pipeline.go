package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/drift"
	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/panics"
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
	access     *gitaccess.Policy
	drift      *drift.Detector
	background []loop
}

func newPipeline(cfg config.Config, nb *netbox.Client, st stores, breakers *breaker.Set, catcher *panics.Catcher, reg prometheus.Registerer,
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
		Guard: breakers.Guard(breaker.Git),
	}, logger.With("component", "git"))
	if err != nil {
		return nil, fmt.Errorf("app: HNP_GIT_WORKDIR: %w", err)
	}
	// What Argo CD and drift detection move reaches NetBox directly.
	show := func(ctx context.Context, fabric int64, keys []state.Key) { p.rec.ShowStates(ctx, fabric, keys) }
	if p.argo, err = newArgo(cfg, st.states, show, breakers, catcher, logger); err != nil {
		return nil, err
	}
	opts := []reconcile.Option{reconcile.WithStates(st.states), reconcile.WithProblems(st.problems), reconcile.WithMetrics(reg),
		reconcile.WithOverlapCheck(nb, st.queue)}
	if cfg.WriteBack {
		opts = append(opts, reconcile.WithWriteBack(nb))
	}
	if p.argo != nil {
		defaults, err := argoDefaults(cfg)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		opts = append(opts, reconcile.WithDeployer(p.argo.syncer, defaults))
		p.background = append(p.background, loop{"argocd.syncer", p.argo.syncer.Run})
	}
	p.rec = reconcile.New(nb, writer, reconcile.Defaults{GitURL: cfg.Git.DefaultURL, GitBranch: cfg.Git.DefaultBranch, Access: access},
		logger.With("component", "reconcile"), opts...)
	if err := p.rec.Err(); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	p.drift, err = drift.New(p.rec, st.states, newClusters(cfg, p, breakers, logger), drift.Options{Interval: cfg.DriftInterval,
		HeartbeatMaxAge: cfg.DriftHeartbeatMaxAge}, show,
		logger.With("component", "drift"), reg)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	p.handler = reconcile.NewHandler(p.rec, nb, st.jobs)
	p.background = append(p.background, loop{"reconcile.writeback", p.rec.RunWriteBack}, loop{"drift", p.drift.Run})
	return p, nil
}

// argoDefaults complete the fabrics' Applications from the configuration,
// with the Git credentials Argo CD reads the repositories with.
func argoDefaults(cfg config.Config) (reconcile.ArgoDefaults, error) {
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
