package reconcile

import (
	"context"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/render"
)

// Deployer gets each fabric's pushed commit into the cluster (Argo CD).
type Deployer interface {
	// Committed asks for the fabric to reach the target's commit; it
	// never blocks.
	Committed(t argocd.Target)
	// Health is the fabric's Application health as last seen ("" unknown).
	Health(fabric int64) string
}

// ArgoDefaults complete what a fabric in NetBox leaves empty.
type ArgoDefaults struct {
	Namespace, Project, DestServer, DestNamespace string
	// Repo carries the credentials Argo CD reads the repository with;
	// empty: the repository is expected to be set up in Argo CD already.
	Repo argocd.Repository
}

// WithDeployer hands every pushed commit of a fabric whose GitOps tool is
// Argo CD to d.
func WithDeployer(d Deployer, defaults ArgoDefaults) Option {
	return func(r *Reconciler) { r.deployer, r.argo = d, defaults }
}

// application is the fabric's Application (DESIGN.md §8): its name,
// namespace, prune and self-heal from NetBox, the rest from defaults.
func (r *Reconciler) application(f netbox.Fabric, t Target) (argocd.App, bool) {
	if tool := strings.ToLower(f.GitopsTool); tool != "" && tool != "argocd" {
		return argocd.App{}, false
	}
	managed, err := render.ManagedDir(t.Root)
	if err != nil {
		return argocd.App{}, false
	}
	a := argocd.App{Name: f.GitopsAppName, Namespace: f.GitopsNamespace, Project: r.argo.Project,
		RepoURL: t.URL, Revision: t.Branch, Path: managed, DestServer: r.argo.DestServer,
		DestNamespace: f.KubernetesNS, Fabric: f.Name,
		Automated: f.AutoSyncEnabled == nil || *f.AutoSyncEnabled,
		Prune:     f.PruneEnabled != nil && *f.PruneEnabled, SelfHeal: f.SelfHealEnabled == nil || *f.SelfHealEnabled}
	if a.Name == "" {
		a.Name = "hedgehog-" + strings.ToLower(f.Name)
	}
	if a.Namespace == "" {
		a.Namespace = r.argo.Namespace
	}
	if a.DestNamespace == "" {
		a.DestNamespace = r.argo.DestNamespace
	}
	return a, true
}

// deploy hands a pushed commit to the deployer.
func (r *Reconciler) deploy(f netbox.Fabric, t Target, commit string) {
	if r.deployer == nil || commit == "" {
		return
	}
	app, ok := r.application(f, t)
	if !ok {
		return
	}
	repo := r.argo.Repo
	if repo.Username != "" || repo.Password != "" || repo.SSHPrivateKey != "" {
		repo.URL = t.URL
	}
	r.deployer.Committed(argocd.Target{Fabric: f.ID, FabricName: f.Name, App: app, Repo: repo, Commit: commit})
}

// ResyncFabric returns a function that queues a full reconcile of a fabric
// (after an Argo CD sync, so the new states reach NetBox; after a write-back
// that had to skip objects changed since they were read).
func ResyncFabric(q Enqueuer, logger interface {
	Warn(msg string, args ...any)
}) func(fabric int64) {
	return func(fabric int64) {
		if _, err := q.Enqueue(context.Background(), resyncHint(fabric)); err != nil {
			logger.Warn("fabric reconcile not queued; the periodic reconcile does it", "fabric_id", fabric, "err", err)
		}
	}
}
