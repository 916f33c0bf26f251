package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// ArgoDefaults complete what a fabric in NetBox leaves empty, and bound
// what it may ask for.
type ArgoDefaults struct {
	Namespace, Project, DestServer, DestNamespace string
	// Naming decides the Application's name, namespace and destination
	// namespace; unset: the
	// deployer's (when it has a Naming method), else the default pattern
	// in Namespace.
	Naming argocd.Naming
	// RepoCredentials gives the credentials Argo CD reads a repository
	// with: those the Git access policy has for that URL's host, never
	// another host's (nil, or empty: the repository is expected to be set
	// up in Argo CD already).
	RepoCredentials func(url string) argocd.Repository
	// Place (nil: every fabric on the default) checks where the fabric's
	// Argo CD is (internal/placement) and returns the destination server
	// of its Application ("" for DestServer); an error is the fabric's
	// configuration problem.
	Place func(f netbox.Fabric) (string, error)
}

// ErrNotArgoCD: the fabric's gitops_tool names another tool.
var ErrNotArgoCD = errors.New("reconcile: fabric does not use Argo CD")

// WithDeployer hands every pushed commit of a fabric whose GitOps tool is
// Argo CD to d.
func WithDeployer(d Deployer, defaults ArgoDefaults) Option {
	if n, ok := d.(interface{ Naming() argocd.Naming }); ok && defaults.Naming.Namespace == "" && defaults.Naming.Pattern == nil {
		defaults.Naming = n.Naming()
	}
	if defaults.Naming.Namespace == "" {
		defaults.Naming.Namespace = defaults.Namespace
	}
	return func(r *Reconciler) { r.deployer, r.argo = d, defaults }
}

// Application is a fabric's Argo CD Application (DESIGN.md §8) and the
// repository credentials Argo CD reads it with, as the deployer hands them
// over after each push; for callers without a Reconciler (an Argo CD
// installation). ErrNotArgoCD when the fabric uses another tool,
// ErrNoRepository when it names no repository.
func Application(ctx context.Context, repos GitRepositories, d Defaults, argo ArgoDefaults, logger *slog.Logger,
	f netbox.Fabric) (argocd.App, argocd.Repository, error) {
	t, err := resolveTarget(ctx, repos, d, logger, f)
	if err != nil {
		return argocd.App{}, argocd.Repository{}, err
	}
	app, err := application(f, t, argo)
	if err != nil {
		return argocd.App{}, argocd.Repository{}, err
	}
	return app, repository(t, argo), nil
}

// application is the fabric's Application: prune and self-heal from
// NetBox, the rest from defaults. NetBox's name, namespace and destination
// namespace are only taken within the configured bounds (argocd.Naming):
// else a *ConfigError.
func application(f netbox.Fabric, t Target, argo ArgoDefaults) (argocd.App, error) {
	if tool := strings.ToLower(f.GitopsTool); tool != "" && tool != "argocd" {
		return argocd.App{}, fmt.Errorf("%w: fabric %s uses gitops_tool %q, not Argo CD", ErrNotArgoCD, f.Name, f.GitopsTool)
	}
	managed, err := render.ManagedDir(t.Root)
	if err != nil {
		return argocd.App{}, fmt.Errorf("reconcile: fabric %s: gitops_directory: %w", f.Name, err)
	}
	naming := argo.Naming
	if naming.Namespace == "" {
		naming.Namespace = argo.Namespace
	}
	name, err := naming.Name(f.ID, f.Name, f.GitopsAppName)
	if err != nil {
		return argocd.App{}, configError(f, err, "%s: %v", argoReason, err)
	}
	ns, err := naming.Namespaced(f.GitopsNamespace)
	if err != nil {
		return argocd.App{}, configError(f, err, "%s: %v", argoReason, err)
	}
	dest, err := naming.Destination(f.KubernetesNS, argo.DestNamespace)
	if err != nil {
		return argocd.App{}, configError(f, err, "%s: %v", argoReason, err)
	}
	server := argo.DestServer
	if argo.Place != nil {
		s, err := argo.Place(f)
		if err != nil {
			return argocd.App{}, configError(f, err, "%s: %v", argoReason, err)
		}
		server = cmp.Or(s, server)
	}
	return argocd.App{Name: name, Namespace: ns, Project: argo.Project,
		RepoURL: t.URL, Revision: t.Branch, Path: managed, DestServer: server,
		DestNamespace: dest, Fabric: f.Name, FabricID: f.ID,
		Automated: f.AutoSyncEnabled == nil || *f.AutoSyncEnabled,
		Prune:     f.PruneEnabled != nil && *f.PruneEnabled, SelfHeal: f.SelfHealEnabled == nil || *f.SelfHealEnabled}, nil
}

// repository is the credentials Argo CD reads t's repository with, if
// the sidecar gives it any.
func repository(t Target, argo ArgoDefaults) argocd.Repository {
	if argo.RepoCredentials == nil {
		return argocd.Repository{}
	}
	repo := argo.RepoCredentials(t.URL)
	if repo.Username != "" || repo.Password != "" || repo.SSHPrivateKey != "" {
		repo.URL = t.URL
	}
	return repo
}

// deploy hands a pushed commit to the deployer. A fabric whose
// Application is refused (its name, namespace or destination, or an
// Application of that name that is not this fabric's) is shown the reason
// (argoProblem); its commit stays in Git and Argo CD is not touched.
func (r *Reconciler) deploy(f netbox.Fabric, t Target, commit string) {
	if r.deployer == nil || commit == "" {
		return
	}
	app, err := application(f, t, r.argo)
	if err != nil {
		// deploy has no context of its own (its caller's run ended).
		ctx, cancel := context.WithTimeout(context.Background(), argoProblemTimeout)
		defer cancel()
		if errors.Is(err, ErrFabricConfig) {
			r.argoProblem(ctx, f, err)
			return
		}
		r.argoResolved(ctx, f) // no longer on Argo CD: nothing there is wrong
		r.logger.Info("commit not handed to Argo CD; its objects stay committed", "fabric", f.Name, "reason", err.Error())
		return
	}
	r.deployer.Committed(argocd.Target{Fabric: f.ID, FabricName: f.Name, App: app, Repo: repository(t, r.argo), Commit: commit,
		Ensured: func(ctx context.Context, err error) {
			if err != nil {
				r.argoProblem(ctx, f, configError(f, err, "%s: %v", argoReason, err))
				return
			}
			r.argoResolved(ctx, f)
		}})
}
