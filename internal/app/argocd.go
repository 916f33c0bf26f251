package app

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/argocd/install"
	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/panics"
	"github.com/githedgehog/hnp-sidecar/internal/placement"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// argoParts is the Argo CD side: the syncer, and the cluster the
// Kubernetes driver reaches (nil with the REST driver).
type argoParts struct {
	syncer *argocd.Syncer
	kube   *rest.Config
	// places says which Argo CD each fabric's Application goes to.
	places *placement.Placer
}

// newArgo makes the driver and the syncer, or nothing when Argo CD is off.
//
// The syncer's targets, health and failures are in Redis (rdb); it works
// on the fabrics owner says this replica owns; repoCredentials puts the
// Git credentials back on a target read from Redis.
func newArgo(cfg config.Config, states *state.Store, show func(context.Context, int64, []state.Key), breakers *breaker.Set,
	catcher *panics.Catcher, logger *slog.Logger, rdb redis.UniversalClient, owner argocd.Owner,
	repoCredentials func(url string) argocd.Repository, places func(defaultArgo bool) *placement.Placer) (*argoParts, error) {
	d := cfg.Argo.ResolveDriver(cluster.Available(cfg.Argo.Kubeconfig, os.Getenv))
	if d == config.DriverOff {
		logger.Info("Argo CD is not configured (HNP_ARGOCD_DRIVER): objects stop at committed")
		return nil, nil
	}
	parts := &argoParts{}
	var driver argocd.Driver
	switch d {
	case config.DriverREST:
		hc := &http.Client{Timeout: 2 * time.Minute}
		if cfg.Argo.InsecureTLS {
			logger.Warn("HNP_ARGOCD_INSECURE_TLS=true: argocd-server's certificate is not verified; anyone on the path can read "+
				"the Argo CD token and change what is deployed. For tests only", "argocd_url", cfg.Argo.URL)
			hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // opt-in, tests only
		}
		r, err := argocd.NewREST(cfg.Argo.URL, cfg.Argo.Token.Reveal(), breakerClient(breakers, breaker.ArgoCD, hc))
		if err != nil {
			return nil, fmt.Errorf("app: HNP_ARGOCD_URL: %w", err)
		}
		driver = r
	case config.DriverKubernetes:
		rc, err := cluster.Default(cfg.Argo.Kubeconfig, os.Getenv)
		if errors.Is(err, cluster.ErrNoCluster) {
			logger.Warn("Argo CD through Kubernetes without a default cluster (HNP_KUBECONFIG): only fabrics that name their own "+
				"kubernetes_server in NetBox reach Argo CD; the others are shown why", "component", "argocd")
			break
		} else if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		// The driver goes through the breaker; parts.kube stays bare for
		// the health probe and for drift detection, which wraps its own.
		wrapped := rest.CopyConfig(rc)
		wrapped.Wrap(func(rt http.RoundTripper) http.RoundTripper { return breakers.Transport(breaker.Kubernetes, rt) })
		dyn, err := dynamic.NewForConfig(wrapped)
		if err != nil {
			return nil, fmt.Errorf("app: kubernetes client: %w", err)
		}
		parts.kube = rc
		driver = argocd.NewKube(dyn)
	}
	log := logger.With("component", "argocd")
	project := argoProject(cfg, log)
	parts.places = places(driver != nil)
	parts.syncer = argocd.NewSyncer(driver, states, argocd.Options{Timeout: cfg.Argo.SyncTimeout, Project: &project,
		Naming: argoNaming(cfg), Panics: catcher, Redis: rdb, Prefix: cfg.RedisPrefix, Owner: owner,
		RepoCredentials: repoCredentials, Places: parts.places}, show, log)
	return parts, nil
}

// argoNaming is the policy of the fabrics' Application names.
func argoNaming(cfg config.Config) argocd.Naming {
	return argocd.Naming{Pattern: cfg.Argo.AppNamePattern, Namespace: cfg.Argo.Namespace, Destinations: cfg.Argo.Destinations()}
}

// argoProject is the AppProject every Application is in: the allowed Git
// repositories, the configured cluster and namespaces, Hedgehog kinds.
func argoProject(cfg config.Config, logger *slog.Logger) argocd.Project {
	p := argocd.Project{Name: cfg.Argo.Project, Namespace: cfg.Argo.Namespace, SourceRepos: argoSourceRepos(cfg)}
	for _, ns := range cfg.Argo.Destinations() {
		p.Destinations = append(p.Destinations, argocd.Destination{Server: cfg.Argo.DestServer, Namespace: ns})
	}
	if len(p.SourceRepos) == 0 {
		logger.Warn("the AppProject allows no Git repository (HNP_GIT_DEFAULT_URL is unset): Argo CD refuses every Application",
			"project", p.Name)
	}
	return p
}

// argoSourceRepos are the repositories Applications may read: what the
// Git access policy allows (HNP_GIT_ALLOWED_URLS, by default the host of
// HNP_GIT_DEFAULT_URL), so Argo CD refuses an Application whose repoURL
// someone pointed elsewhere.
func argoSourceRepos(cfg config.Config) []string {
	access, err := cfg.Git.Access()
	if err != nil { // config validation reports it
		return nil
	}
	return argocd.SourcePatterns(access.Allowed(), cfg.Git.AllowHTTP)
}

// newClusters is where drift detection and the fabrics' own Argo CDs
// are: the fabric's own cluster when NetBox names one (within
// HNP_CLUSTER_ALLOWED_SERVERS), else the sidecar's (HNP_KUBECONFIG or the
// pod's), else nowhere.
func newClusters(cfg config.Config, breakers *breaker.Set, logger *slog.Logger) *cluster.Clusters {
	def, err := cluster.Default(cfg.Argo.Kubeconfig, os.Getenv)
	if err != nil && !errors.Is(err, cluster.ErrNoCluster) {
		logger.Warn("the default cluster is not usable; only fabrics with kubernetes_server in NetBox are checked and synced", "err", err)
	}
	return cluster.NewClusters(def, func(rt http.RoundTripper) http.RoundTripper {
		return breakers.Transport(breaker.Kubernetes, rt)
	}).Restrict(cfg.ClusterAllowedServers)
}

// newPlaces places the fabrics' Argo CDs: their own clusters, or the
// default driver (when there is one).
func newPlaces(cfg config.Config, nb *netbox.Client, clusters *cluster.Clusters) func(bool) *placement.Placer {
	return func(defaultArgo bool) *placement.Placer {
		o := placement.Options{DefaultArgo: defaultArgo, DefaultDestServer: cfg.Argo.DestServer}
		if cfg.Argo.ResolveDriver(cluster.Available(cfg.Argo.Kubeconfig, os.Getenv)) == config.DriverREST {
			o.DefaultArgoURL = cfg.Argo.URL
		}
		return placement.New(nb, clusters, o)
	}
}

// newInstaller is what the Argo CD installation endpoint needs. Its
// metrics are built here, once. A fabric's Argo CD goes into its own
// cluster when NetBox names one, else into the sidecar's (places).
func newInstaller(cfg config.Config, nb *netbox.Client, mkPlaces func(bool) *placement.Placer, reg prometheus.Registerer,
	logger *slog.Logger) (*api.Install, error) {
	metrics, err := install.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	log := logger.With("component", "argocd-install")
	access, err := cfg.Git.Access()
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	// The installer makes a default Argo CD where there is none: a
	// fabric's Application is placed as if there were one.
	places := mkPlaces(true)
	return &api.Install{
		Manifest: cfg.Argo.InstallManifest, Timeout: cfg.Argo.InstallTimeout,
		Application: func(ctx context.Context, f netbox.Fabric) (argocd.App, argocd.Repository, error) {
			defaults := argoDefaults(cfg, access, log)
			defaults.Naming = argoNaming(cfg)
			defaults.Place = places.Destination
			app, repo, err := reconcile.Application(ctx, nb, reconcile.Defaults{GitURL: cfg.Git.DefaultURL, GitBranch: cfg.Git.DefaultBranch,
				Access: access}, defaults, log, f)
			if pl, perr := places.For(f); err == nil && (perr != nil || pl.Untrusted) {
				// A cluster NetBox names and the configuration does not
				// list never gets the sidecar's repository credentials.
				repo = argocd.Repository{}
			}
			return app, repo, err
		},
		Cluster: func(f netbox.Fabric) (*rest.Config, error) {
			rc, err := places.Cluster(f)
			if errors.Is(err, cluster.ErrNoCluster) {
				return nil, errNoCluster(err)
			}
			return rc, err
		},
		Run: func(ctx context.Context, rc *rest.Config, req install.Request) (install.Result, error) {
			// One Argo CD per cluster, in HNP_ARGOCD_NAMESPACE: a fabric's
			// own gitops_namespace only places its Application (its
			// cluster-wide roles would otherwise be bound to whichever
			// namespace came last).
			ns := cmp.Or(cfg.Argo.Namespace, install.DefaultNamespace)
			in, err := install.New(rc, install.Options{Namespace: ns}, log, metrics)
			if err != nil {
				return install.Result{}, err
			}
			if req.App != nil && req.Project == nil {
				// The Application names the sidecar's AppProject: it comes
				// first, with the Application's destination server.
				p := argoProject(cfg, log)
				if req.App.DestServer != "" {
					p = *p.At(req.App.DestServer)
				}
				req.Project = &p
			}
			return in.Install(ctx, req)
		},
		Status: fabricStatus(nb, log),
	}, nil
}

// errNoCluster says how to give the sidecar a cluster to install into.
func errNoCluster(err error) error {
	return fmt.Errorf("no Kubernetes cluster configured: set HNP_KUBECONFIG (or run the sidecar in a pod with a service "+
		"account allowed to install Argo CD): %w", err)
}
