package config

import (
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/argocd/install"
	"github.com/githedgehog/hnp-sidecar/internal/redact"
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
	Driver             string
	URL                string
	Token              Secret
	InsecureTLS        bool
	Kubeconfig         string
	Namespace, Project string
	DestServer, DestNS string
	// DestNamespaces (HNP_ARGOCD_DESTINATION_NAMESPACES): the namespaces
	// a fabric's kubernetes_namespace may name; empty: DestNS only.
	DestNamespaces []string
	// AppNamePattern (HNP_ARGOCD_APP_NAME_PATTERN): what a fabric's
	// gitops_app_name may be.
	AppNamePattern      *regexp.Regexp
	SyncTimeout         time.Duration
	RepositoryFromCreds bool
	InstallManifest     string        // HNP_ARGOCD_INSTALL_MANIFEST
	InstallTimeout      time.Duration // HNP_ARGOCD_INSTALL_TIMEOUT
}

var argoVariables = []variable{
	{name: "HNP_ARGOCD_INSTALL_MANIFEST", def: install.DefaultManifest, help: "Argo CD release manifest an installation applies: an http(s) URL or a file; pin a release tag",
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
	{name: "HNP_ARGOCD_TOKEN", secret: true, help: "Argo CD API token of an account allowed to create, get, update and sync the fabrics' Applications, create repositories, and create, get and update the AppProject HNP_ARGOCD_PROJECT (REST driver)",
		set: func(c *Config, v string) error { c.Argo.Token = Secret(v); return nil }},
	{name: "HNP_ARGOCD_INSECURE_TLS", def: "false", help: "do not verify argocd-server's certificate (tests only; warned about at start-up)",
		set: boolVar(func(c *Config) *bool { return &c.Argo.InsecureTLS })},
	{name: "HNP_KUBECONFIG", help: "kubeconfig of the fabric's cluster (kubernetes driver); unset inside a pod: the pod's service account",
		set: func(c *Config, v string) error { c.Argo.Kubeconfig = v; return nil }},
	{name: "HNP_ARGOCD_NAMESPACE", def: "argocd", help: "the only namespace of the Applications (and of the AppProject and repository Secrets); a fabric whose gitops_namespace names another is refused",
		set: func(c *Config, v string) error { c.Argo.Namespace = v; return nil }},
	{name: "HNP_ARGOCD_PROJECT", def: argocd.DefaultProject, help: "the AppProject the sidecar creates, keeps (Hedgehog kinds only, the allowed repositories and destinations) and puts every Application in; one of that name not labelled as the sidecar's is refused",
		set: func(c *Config, v string) error { c.Argo.Project = v; return nil }},
	{name: "HNP_ARGOCD_APP_NAME_PATTERN", def: argocd.DefaultNamePattern, help: "anchored regular expression a fabric's gitops_app_name must match to be used (it must also be a DNS-1123 label); else the fabric is refused; empty gitops_app_name: hnp-<id>-<name>",
		set: func(c *Config, v string) error {
			re, err := argocd.CompileNamePattern(v)
			c.Argo.AppNamePattern = re
			return err
		}},
	{name: "HNP_ARGOCD_DESTINATION_NAMESPACES", help: "comma-separated namespaces a fabric's kubernetes_namespace may name (the AppProject's destinations); unset: only HNP_ARGOCD_DESTINATION_NAMESPACE",
		set: listVar(func(c *Config) *[]string { return &c.Argo.DestNamespaces })},
	{name: "HNP_ARGOCD_DESTINATION_SERVER", def: "https://kubernetes.default.svc", help: "the Applications' destination cluster as Argo CD names it",
		set: func(c *Config, v string) error { c.Argo.DestServer = v; return nil }},
	{name: "HNP_ARGOCD_DESTINATION_NAMESPACE", def: "default", help: "namespace of the CRs, unless the fabric's kubernetes_namespace names one",
		set: func(c *Config, v string) error { c.Argo.DestNS = v; return nil }},
	{name: "HNP_ARGOCD_SYNC_TIMEOUT", def: "5m", help: "how long objects stay pending before they go back to committed (sync_timeout)",
		set: durationVar(time.Second, func(c *Config) *time.Duration { return &c.Argo.SyncTimeout })},
	{name: "HNP_ARGOCD_REPOSITORY_CREDENTIALS", def: "true", help: "give Argo CD the sidecar's Git credentials (HNP_GIT_USERNAME/HNP_GIT_TOKEN) as a repository Secret; false when Argo CD's repositories are set up otherwise",
		set: boolVar(func(c *Config) *bool { return &c.Argo.RepositoryFromCreds })},
}

// ResolveDriver resolves auto: rest when HNP_ARGOCD_URL is set, else
// kubernetes when a cluster is configured (clusterAvailable: HNP_KUBECONFIG
// or a pod's service account, as cluster.Available says), else off.
func (a ArgoConfig) ResolveDriver(clusterAvailable bool) string {
	if a.Driver != DriverAuto {
		return a.Driver
	}
	switch {
	case a.URL != "":
		return DriverREST
	case clusterAvailable:
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

// Destinations are the namespaces fabrics may deploy to: DestNamespaces,
// else DestNS.
func (a ArgoConfig) Destinations() []string {
	if len(a.DestNamespaces) > 0 {
		return a.DestNamespaces
	}
	return []string{a.DestNS}
}

// LogValue is what the start-up configuration shows of Argo CD (no
// secrets); insecure_tls is there so nobody misses it.
func (a ArgoConfig) LogValue() slog.Value {
	pattern := ""
	if a.AppNamePattern != nil {
		pattern = a.AppNamePattern.String()
	}
	return slog.GroupValue(
		slog.String("driver", a.Driver), slog.String("url", redact.URL(a.URL)), slog.Bool("insecure_tls", a.InsecureTLS),
		slog.String("namespace", a.Namespace), slog.String("project", a.Project), slog.String("app_name_pattern", pattern),
		slog.String("destination_server", a.DestServer), slog.Any("destination_namespaces", a.Destinations()))
}
