package install

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// The Argo CD release the installer applies unless told otherwise
// (DESIGN.md §8: a pinned tag, never latest).
const (
	Version          = "v3.6.1"
	DefaultManifest  = "https://raw.githubusercontent.com/argoproj/argo-cd/" + Version + "/manifests/install.yaml"
	DefaultNamespace = "argocd"
)

// Errors of the installer; each is wrapped with the details.
var (
	// ErrUnreachable: the API server did not answer /version.
	ErrUnreachable = errors.New("argocd install: API server unreachable")
	// ErrForbidden: the credentials lack permissions the installation
	// needs (a *ForbiddenError lists them), or were refused.
	ErrForbidden = errors.New("argocd install: missing permissions")
	// ErrBadManifest: the manifest is not an Argo CD install manifest the
	// installer can apply; nothing was applied.
	ErrBadManifest = errors.New("argocd install: bad manifest")
	// ErrNotReady: workloads were not ready in time (the objects are applied).
	ErrNotReady = errors.New("argocd install: workloads not ready")
)

// Options tune an Installer; zero values take the defaults.
type Options struct {
	// Namespace gets every namespaced object (DefaultNamespace).
	Namespace string
	// Poll is how often CRDs and workloads are checked (1s).
	Poll time.Duration
	// FetchTimeout bounds downloading the manifest (1m).
	FetchTimeout time.Duration
	// MaxManifestBytes caps the manifest's size (32 MiB; install.yaml is ~2 MB).
	MaxManifestBytes int64
	// HTTPClient downloads manifests (http.DefaultClient's transport).
	HTTPClient *http.Client
}

// Installer installs Argo CD into a cluster: prerequisites, the release
// manifest server-side applied (CRDs first, waited to Established), the
// workloads waited to be ready, then a fabric's repository Secret and
// Application. Running it again changes nothing that is already right.
type Installer struct {
	host    string
	dyn     dynamic.Interface
	cs      kubernetes.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
	opts    Options
	logger  *slog.Logger
	metrics *Metrics
}

// New builds an installer for the cluster rc reaches. metrics
// may be nil.
func New(rc *rest.Config, opts Options, logger *slog.Logger, metrics *Metrics) (*Installer, error) {
	rc = rest.CopyConfig(rc)
	if rc.UserAgent == "" {
		rc.UserAgent = argocd.FieldManager
	}
	if rc.QPS == 0 && rc.RateLimiter == nil {
		// client-go's default (5/s, bursts of 10) makes the ~200 requests
		// of an installation take 40 s; the API server's own priority and
		// fairness protects it.
		rc.QPS, rc.Burst = 50, 100
	}
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("argocd install: discovery client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("argocd install: dynamic client: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("argocd install: kubernetes client: %w", err)
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = time.Minute
	}
	if opts.MaxManifestBytes <= 0 {
		opts.MaxManifestBytes = 32 << 20
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	return &Installer{host: rc.Host, dyn: dyn, cs: cs, opts: opts, logger: logger, metrics: metrics,
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

// Install runs every step in order and stops at the first error. The
// result says what was done up to then.
func (in *Installer) Install(ctx context.Context, req Request) (res Result, err error) {
	start := time.Now()
	res = Result{Server: in.host, Namespace: in.opts.Namespace, ByKind: map[string]Counts{}, Took: map[Phase]time.Duration{}}
	if req.Wait <= 0 {
		req.Wait = 10 * time.Minute
	}
	progress := func(p Phase, done, total int) {
		if req.Progress != nil {
			req.Progress(Progress{Phase: p, Done: done, Total: total})
		}
	}
	defer func() {
		in.metrics.observe(res, err, time.Since(start))
		if err != nil {
			in.logger.Error("argocd install failed", "server", in.host, "namespace", in.opts.Namespace, "err", err,
				"created", res.Created, "changed", res.Changed, "unchanged", res.Unchanged)
		}
	}()
	step := func(p Phase, fn func() error) error {
		t := time.Now()
		progress(p, 0, 0)
		err := fn()
		took := time.Since(t)
		res.Took[p] += took
		in.metrics.phase(p, took)
		in.logger.Debug("argocd install: phase done", "phase", string(p), "took", took, "ok", err == nil)
		return err
	}

	var objs []*unstructured.Unstructured
	if err = step(PhaseManifest, func() error {
		objs, err = in.readManifest(ctx, req, &res)
		return err
	}); err != nil {
		return res, err
	}
	var pl *plan
	if err = step(PhasePrerequisites, func() error {
		if res.ServerVersion, err = in.reachable(ctx); err != nil {
			return err
		}
		if pl, err = in.plan(objs, res.Source); err != nil {
			return err
		}
		return in.checkAccess(ctx, in.permissions(pl, req), func(d, t int) { progress(PhasePrerequisites, d, t) })
	}); err != nil {
		return res, err
	}
	if err = step(PhaseCRDs, func() error { return in.applyCRDs(ctx, pl, &res, progress) }); err != nil {
		return res, err
	}
	if err = step(PhaseObjects, func() error { return in.applyObjects(ctx, pl, &res, progress) }); err != nil {
		return res, err
	}
	if err = step(PhaseWorkloads, func() error { return in.waitWorkloads(ctx, pl.workloads(), req.Wait, &res, progress) }); err != nil {
		return res, err
	}
	if req.App != nil {
		if err = step(PhaseApplication, func() error { return in.applyApplication(ctx, req, &res, progress) }); err != nil {
			return res, err
		}
	}
	in.logger.Info("argocd installed", "server", in.host, "version", res.ServerVersion, "source", res.Source,
		"namespace", in.opts.Namespace, "objects", res.Total(), "created", res.Created, "changed", res.Changed,
		"unchanged", res.Unchanged, "crds", res.CRDs, "workloads", res.Workloads, "took", time.Since(start).Round(time.Millisecond))
	return res, nil
}
