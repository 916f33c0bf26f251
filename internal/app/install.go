package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/reconcile"
)

// installConfig configures Argo CD installations.
type installConfig struct {
	// Manifest is the release manifest's URL or file (HNP_ARGOCD_INSTALL_MANIFEST).
	Manifest string
	// Timeout bounds waiting for the workloads (HNP_ARGOCD_INSTALL_TIMEOUT).
	Timeout time.Duration
}

// InstallBody is the optional body of POST /api/v1/fabrics/{id}/argocd/install.
type InstallBody struct {
	// ManifestURL replaces HNP_ARGOCD_INSTALL_MANIFEST (http or https only:
	// the sidecar does not read files a caller names).
	ManifestURL string `json:"manifest_url,omitempty"`
	// Manifest is a manifest's content (what `argocd install --manifest FILE` sends).
	Manifest string `json:"manifest,omitempty"`
	// Wait replaces HNP_ARGOCD_INSTALL_TIMEOUT, e.g. "15m".
	Wait string `json:"wait,omitempty"`
}

const (
	maxInstallBody = 32<<20 + 64<<10 // the installer's manifest cap, as JSON
	maxInstallWait = 2 * time.Hour
	// installSlack is what an installation may take beyond waiting for workloads.
	installSlack = 15 * time.Minute
)

// errNoCluster: neither HNP_KUBECONFIG nor a pod's service account.
var errNoCluster = errors.New("no Kubernetes cluster configured: set HNP_KUBECONFIG (or run the sidecar in a pod with a service account allowed to install Argo CD)")

func jsonError(c echo.Context, code int, msg string) error {
	return c.JSON(code, map[string]string{"error": msg})
}

// installArgoCD installs Argo CD into a fabric's cluster as a job:
// 202 with the job, which GET /api/v1/jobs/{id} follows.
func (a *App) installArgoCD(c echo.Context) error {
	if a.nb == nil {
		return jsonError(c, http.StatusConflict, "NetBox is not configured: set HNP_NETBOX_URL and HNP_NETBOX_TOKEN")
	}
	var body InstallBody
	if err := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, maxInstallBody)).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return jsonError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxInstallBody))
		}
		return jsonError(c, http.StatusBadRequest, "body: "+err.Error())
	}
	req, err := installRequest(body, installConfig{Manifest: a.cfg.Argo.InstallManifest, Timeout: a.cfg.Argo.InstallTimeout})
	if err != nil {
		return jsonError(c, http.StatusBadRequest, err.Error())
	}
	ctx := c.Request().Context()
	f, err := a.installFabric(ctx, c.Param("id"))
	if errors.Is(err, netbox.ErrNotFound) {
		return jsonError(c, http.StatusNotFound, "no fabric "+c.Param("id")+" in NetBox")
	} else if err != nil {
		a.logger.Error("argocd install: reading the fabric failed", "fabric", c.Param("id"), "err", err)
		return jsonError(c, http.StatusBadGateway, "NetBox could not be read")
	}
	app, repo, err := a.installApplication(ctx, f)
	if err != nil {
		return jsonError(c, http.StatusConflict, err.Error())
	}
	req.App, req.Repo = &app, repo
	rc, err := a.fabricRestConfig(f)
	if err != nil {
		return jsonError(c, http.StatusPreconditionFailed, err.Error())
	}
	budget := req.Wait + installSlack
	lock, running, err := a.lockInstall(ctx, f.ID, budget+time.Minute)
	switch {
	case err != nil:
		a.logger.Error("argocd install: lock", "fabric_id", f.ID, "err", err)
		return jsonError(c, http.StatusServiceUnavailable, "job store unavailable")
	case lock == nil:
		return c.JSON(http.StatusConflict, map[string]string{"error": "an Argo CD installation for fabric " + f.Name + " is already running",
			"job": running, "status_url": "/api/v1/jobs/" + running})
	}
	job, err := a.jobs.CreateKind(ctx, f.ID, jobs.KindArgoCDInstall)
	if err == nil {
		err = lock.hold(ctx, job.ID)
	}
	if err != nil {
		lock.release(context.WithoutCancel(ctx))
		a.logger.Error("argocd install: job not created", "fabric_id", f.ID, "err", err)
		return jsonError(c, http.StatusServiceUnavailable, "job store unavailable")
	}
	// The installation outlives the request; a shutdown cancels it (the
	// job then says so) and Stop waits for it.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	a.server.RegisterOnShutdown(cancel)
	a.wg.Go(func() {
		defer cancel()
		defer lock.release(context.WithoutCancel(ictx))
		a.runInstall(ictx, job, f, rc, req)
	})
	a.logger.Info("argocd install started", "fabric_id", f.ID, "fabric", f.Name, "job", job.ID, "source", req.Source,
		"namespace", app.Namespace, "application", app.Name)
	return c.JSON(http.StatusAccepted, SyncResponse{Job: job, StatusURL: "/api/v1/jobs/" + job.ID})
}

// installRequest is the installation a request body asks for.
func installRequest(body InstallBody, ic installConfig) (argocd.InstallRequest, error) {
	req := argocd.InstallRequest{Source: ic.Manifest, Wait: ic.Timeout}
	switch {
	case body.ManifestURL != "" && body.Manifest != "":
		return req, errors.New("give manifest_url or manifest, not both")
	case body.ManifestURL != "":
		if u, err := url.Parse(body.ManifestURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return req, errors.New("manifest_url must be an http(s) URL; send a local file's content as manifest")
		}
		req.Source = body.ManifestURL
	case body.Manifest != "":
		req.Source, req.Manifest = "uploaded manifest", []byte(body.Manifest)
	}
	if body.Wait != "" {
		d, err := time.ParseDuration(body.Wait)
		if err != nil || d < 0 || d > maxInstallWait {
			return req, fmt.Errorf("wait: not a duration between 0s and %s, such as 10m", maxInstallWait)
		}
		req.Wait = d
	}
	return req, nil
}

// runInstall runs one installation and records it in the job.
func (a *App) runInstall(ctx context.Context, job jobs.Job, f netbox.Fabric, rc *rest.Config, req argocd.InstallRequest) {
	log := a.logger.With("component", "argocd-install", "fabric_id", f.ID, "fabric", f.Name, "job", job.ID)
	update := func(fn func(*jobs.Job)) {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := a.jobs.Update(uctx, job.ID, fn); err != nil {
			log.Warn("argocd install: job not updated", "err", err)
		}
	}
	update(func(j *jobs.Job) { j.State, j.Attempts = jobs.Running, 1 })
	res, err := a.install(ctx, rc, req, func(p argocd.Progress) {
		update(func(j *jobs.Job) { j.Phase, j.Done, j.Total = p.Phase.Description(), p.Done, p.Total })
	})
	if errors.Is(err, context.Canceled) {
		err = fmt.Errorf("stopped: the sidecar is shutting down (%w); ask again", err)
	}
	update(func(j *jobs.Job) {
		j.Objects = res.Total()
		j.Applied = &jobs.Applied{Created: res.Created, Changed: res.Changed, Unchanged: res.Unchanged}
		if err != nil {
			j.State, j.Error = jobs.Failed, err.Error()
			return
		}
		j.State, j.Error, j.Done = jobs.Succeeded, "", j.Total
		j.Phase = fmt.Sprintf("Argo CD from %s is installed in %s (%s); Application %s/%s", res.Source, res.Namespace,
			res.Server, req.App.Namespace, req.App.Name)
	})
}

// install builds an installer for the cluster rc reaches and runs req.
func (a *App) install(ctx context.Context, rc *rest.Config, req argocd.InstallRequest, progress func(argocd.Progress)) (argocd.InstallResult, error) {
	metrics, err := argocd.NewInstallMetrics(a.reg)
	if err != nil {
		return argocd.InstallResult{}, err
	}
	// One Argo CD per cluster, in HNP_ARGOCD_NAMESPACE: a fabric's own
	// gitops_namespace only places its Application (its cluster-wide
	// roles would otherwise be bound to whichever namespace came last).
	ns := cmp.Or(a.cfg.Argo.Namespace, argocd.DefaultInstallNS)
	in, err := argocd.NewInstaller(rc, argocd.InstallerOptions{Namespace: ns}, a.logger.With("component", "argocd-install"), metrics)
	if err != nil {
		return argocd.InstallResult{}, err
	}
	req.Progress = progress
	return in.Install(ctx, req)
}

// installFabric reads a fabric given by id or name.
func (a *App) installFabric(ctx context.Context, ref string) (netbox.Fabric, error) {
	id, err := a.fabricID(ctx, ref)
	if err != nil {
		return netbox.Fabric{}, err
	}
	return a.nb.GetFabric(ctx, id)
}

// fabricRestConfig is how the sidecar reaches a fabric's cluster. For now
// every fabric's is the sidecar's own (HNP_KUBECONFIG, or the pod's
// service account); the fabric's kubernetes_server, kubernetes_token and
// kubernetes_ca_cert in NetBox are the seam for a cluster per fabric.
func (a *App) fabricRestConfig(_ netbox.Fabric) (*rest.Config, error) {
	if a.argo != nil && a.argo.kube != nil {
		return a.argo.kube, nil
	}
	if a.cfg.Argo.Kubeconfig == "" && os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		return nil, errNoCluster
	}
	rc, err := kubeConfig(a.cfg.Argo.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoCluster, err)
	}
	return rc, nil
}

// installApplication is the fabric's Application and repository, as the
// syncer applies them after each push (reconcile.Application).
func (a *App) installApplication(ctx context.Context, f netbox.Fabric) (argocd.App, argocd.Repository, error) {
	defaults, err := argoDefaults(a.cfg)
	if err != nil {
		return argocd.App{}, argocd.Repository{}, err
	}
	return reconcile.Application(ctx, a.nb, reconcile.Defaults{GitURL: a.cfg.Git.DefaultURL, GitBranch: a.cfg.Git.DefaultBranch},
		defaults, a.logger.With("component", "argocd-install"), f)
}

// installLock lets one Argo CD installation per fabric run at a time,
// across replicas: a Redis key holding the running job's id.
type installLock struct {
	rdb        *redis.Client
	key, value string
}

var (
	swapScript    = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') end return false`)
	releaseScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)
)

// lockInstall takes the fabric's lock for ttl; when another installation
// holds it, it returns no lock and that installation's job id.
func (a *App) lockInstall(ctx context.Context, fabric int64, ttl time.Duration) (*installLock, string, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	l := &installLock{rdb: a.rdb, key: "{" + a.cfg.RedisPrefix + "}:argocd-install:" + strconv.FormatInt(fabric, 10),
		value: "starting-" + hex.EncodeToString(b)}
	for {
		ok, err := a.rdb.SetNX(ctx, l.key, l.value, ttl).Result()
		if err != nil || ok {
			return l, "", err
		}
		running, err := a.rdb.Get(ctx, l.key).Result()
		if !errors.Is(err, redis.Nil) {
			return nil, running, err
		}
		// It ended between the two calls: try again.
	}
}

// hold records the job holding the lock.
func (l *installLock) hold(ctx context.Context, job string) error {
	if err := swapScript.Run(ctx, l.rdb, []string{l.key}, l.value, job).Err(); err != nil {
		return fmt.Errorf("argocd install: lock %s: %w", l.key, err)
	}
	l.value = job
	return nil
}

func (l *installLock) release(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = releaseScript.Run(ctx, l.rdb, []string{l.key}, l.value).Err()
}
