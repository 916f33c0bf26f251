package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// Argo CD drivers (HNP_ARGOCD_DRIVER).
const (
	DriverAuto       = "auto"
	DriverREST       = "rest"
	DriverKubernetes = "kubernetes"
	DriverOff        = "off"
)

// ArgoConfig is how the sidecar reaches Argo CD and the cluster.
type ArgoConfig struct {
	Driver              string
	URL                 string
	Token               Secret
	InsecureTLS         bool
	Kubeconfig          string
	Namespace, Project  string
	DestServer, DestNS  string
	SyncTimeout         time.Duration
	RepositoryFromCreds bool
	InstallManifest     string        // HNP_ARGOCD_INSTALL_MANIFEST
	InstallTimeout      time.Duration // HNP_ARGOCD_INSTALL_TIMEOUT
}

var argoVariables = []variable{
	{name: "HNP_ARGOCD_INSTALL_MANIFEST", def: argocd.DefaultInstallManifest, help: "Argo CD release manifest an installation applies: an http(s) URL or a file; pin a release tag",
		set: func(c *Config, v string) error {
			c.Argo.InstallManifest = v
			if strings.Contains(v, "://") {
				return checkHTTPURL(v)
			}
			return nil
		}},
	{name: "HNP_ARGOCD_INSTALL_TIMEOUT", def: "10m", help: "how long an Argo CD installation waits for its workloads to be ready",
		set: durationVar(10*time.Second, func(c *Config) *time.Duration { return &c.Argo.InstallTimeout })},
	{name: "HNP_ARGOCD_DRIVER", def: DriverAuto, help: "how Argo CD is driven: rest (HNP_ARGOCD_URL), kubernetes (the Application resource, through HNP_KUBECONFIG or the in-cluster account), off, or auto (rest when HNP_ARGOCD_URL is set, else kubernetes when a cluster is configured, else off)",
		set: func(c *Config, v string) error {
			switch v {
			case DriverAuto, DriverREST, DriverKubernetes, DriverOff:
				c.Argo.Driver = v
				return nil
			}
			return errors.New("not one of auto, rest, kubernetes, off")
		}},
	{name: "HNP_ARGOCD_URL", help: "argocd-server's URL, e.g. https://argocd.example.com (REST driver)",
		set: func(c *Config, v string) error { c.Argo.URL = v; return nil }},
	{name: "HNP_ARGOCD_TOKEN", secret: true, help: "Argo CD API token of an account allowed to get, update and sync the fabrics' Applications (REST driver)",
		set: func(c *Config, v string) error { c.Argo.Token = Secret(v); return nil }},
	{name: "HNP_ARGOCD_INSECURE_TLS", def: "false", help: "do not verify argocd-server's certificate (tests only)",
		set: boolVar(func(c *Config) *bool { return &c.Argo.InsecureTLS })},
	{name: "HNP_KUBECONFIG", help: "kubeconfig of the fabric's cluster (kubernetes driver); unset inside a pod: the pod's service account",
		set: func(c *Config, v string) error { c.Argo.Kubeconfig = v; return nil }},
	{name: "HNP_ARGOCD_NAMESPACE", def: "argocd", help: "namespace of the Applications, unless the fabric's gitops_namespace names one",
		set: func(c *Config, v string) error { c.Argo.Namespace = v; return nil }},
	{name: "HNP_ARGOCD_PROJECT", def: "default", help: "Argo CD project of the Applications",
		set: func(c *Config, v string) error { c.Argo.Project = v; return nil }},
	{name: "HNP_ARGOCD_DESTINATION_SERVER", def: "https://kubernetes.default.svc", help: "the Applications' destination cluster as Argo CD names it",
		set: func(c *Config, v string) error { c.Argo.DestServer = v; return nil }},
	{name: "HNP_ARGOCD_DESTINATION_NAMESPACE", def: "default", help: "namespace of the CRs, unless the fabric's kubernetes_namespace names one",
		set: func(c *Config, v string) error { c.Argo.DestNS = v; return nil }},
	{name: "HNP_ARGOCD_SYNC_TIMEOUT", def: "5m", help: "how long objects stay pending before they go back to committed (sync_timeout)",
		set: durationVar(time.Second, func(c *Config) *time.Duration { return &c.Argo.SyncTimeout })},
	{name: "HNP_ARGOCD_REPOSITORY_CREDENTIALS", def: "true", help: "give Argo CD the sidecar's Git credentials (HNP_GIT_USERNAME/HNP_GIT_TOKEN) as a repository Secret; false when Argo CD's repositories are set up otherwise",
		set: boolVar(func(c *Config) *bool { return &c.Argo.RepositoryFromCreds })},
}

// driver resolves auto.
func (a ArgoConfig) driver(getenv func(string) string) string {
	if a.Driver != DriverAuto {
		return a.Driver
	}
	switch {
	case a.URL != "":
		return DriverREST
	case a.Kubeconfig != "" || getenv("KUBERNETES_SERVICE_HOST") != "":
		return DriverKubernetes
	}
	return DriverOff
}

func (a ArgoConfig) validate() []error {
	var errs []error
	if a.Driver == DriverREST && (a.URL == "" || a.Token == "") {
		errs = append(errs, errors.New("HNP_ARGOCD_DRIVER=rest needs HNP_ARGOCD_URL and HNP_ARGOCD_TOKEN"))
	}
	if a.URL != "" && a.Token == "" {
		errs = append(errs, errors.New("HNP_ARGOCD_URL needs HNP_ARGOCD_TOKEN"))
	}
	return errs
}

// argoParts is the Argo CD side of the app: the syncer and the health
// reports it adds.
type argoParts struct {
	syncer     *argocd.Syncer
	kube       *rest.Config
	components map[string]func(context.Context) health.Report
}

// buildArgo makes the driver and the syncer, or nothing when off.
func buildArgo(cfg Config, states *state.Store, q reconcile.Enqueuer, breakers *breaker.Set, logger *slog.Logger) (*argoParts, error) {
	d := cfg.Argo.driver(os.Getenv)
	if d == DriverOff {
		logger.Info("Argo CD is not configured (HNP_ARGOCD_DRIVER): objects stop at committed")
		return nil, nil
	}
	parts := &argoParts{components: map[string]func(context.Context) health.Report{}}
	var driver argocd.Driver
	switch d {
	case DriverREST:
		hc := &http.Client{Timeout: 2 * time.Minute}
		if cfg.Argo.InsecureTLS {
			hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // opt-in, tests only
		}
		r, err := argocd.NewREST(cfg.Argo.URL, cfg.Argo.Token.Reveal(), breakerClient(breakers, breaker.ArgoCD, hc))
		if err != nil {
			return nil, fmt.Errorf("app: HNP_ARGOCD_URL: %w", err)
		}
		driver = r
	case DriverKubernetes:
		rc, err := kubeConfig(cfg.Argo.Kubeconfig)
		if err != nil {
			return nil, err
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
	parts.syncer = argocd.NewSyncer(driver, states, argocd.Options{Timeout: cfg.Argo.SyncTimeout},
		reconcile.ResyncFabric(q, log), log)
	parts.components["argocd"] = func(context.Context) health.Report {
		return withBreakers(breakers, breaker.ArgoCD, parts.syncer.Report())
	}
	if parts.kube != nil {
		parts.components["kubernetes"] = func(ctx context.Context) health.Report {
			return withBreakers(breakers, breaker.Kubernetes, kubeHealth(ctx, parts.kube))
		}
	}
	return parts, nil
}

// kubeConfig reads HNP_KUBECONFIG, or the pod's service account.
func kubeConfig(path string) (*rest.Config, error) {
	if path == "" {
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("app: HNP_KUBECONFIG is not set and not in a pod: %w", err)
		}
		return rc, nil
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("app: HNP_KUBECONFIG=%s: %w", path, err)
	}
	return rc, nil
}

// kubeHealth asks the API server's /readyz.
func kubeHealth(ctx context.Context, rc *rest.Config) health.Report {
	hc, err := rest.HTTPClientFor(rc)
	if err == nil {
		var req *http.Request
		if req, err = http.NewRequestWithContext(ctx, http.MethodGet, rc.Host+"/readyz", nil); err == nil {
			var resp *http.Response
			if resp, err = hc.Do(req); err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("readyz: HTTP %d", resp.StatusCode)
				}
			}
		}
	}
	now := time.Now()
	if err != nil {
		return health.Report{Status: health.Down, LastError: &now, Error: err.Error(), Details: map[string]any{"server": rc.Host}}
	}
	return health.Report{Status: health.OK, LastSuccess: &now, Details: map[string]any{"server": rc.Host}}
}
