package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/argocd/install"
	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

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

// installArgoCD installs Argo CD into a fabric's cluster as a job:
// 202 with the job, which GET /api/v1/jobs/{id} follows.
func (s *Server) installArgoCD(c echo.Context) error {
	if s.NetBox == nil || s.Install == nil {
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
	req, err := installRequest(body, s.Install.Manifest, s.Install.Timeout)
	if err != nil {
		return jsonError(c, http.StatusBadRequest, err.Error())
	}
	ctx := c.Request().Context()
	f, err := s.fabric(ctx, c.Param("id"))
	if errors.Is(err, netbox.ErrNotFound) {
		return jsonError(c, http.StatusNotFound, "no fabric "+c.Param("id")+" in NetBox")
	} else if err != nil {
		s.Logger.Error("argocd install: reading the fabric failed", "fabric", c.Param("id"), "err", err)
		return jsonError(c, http.StatusBadGateway, "NetBox could not be read")
	}
	app, repo, err := s.Install.Application(ctx, f)
	if err != nil {
		return jsonError(c, http.StatusConflict, err.Error())
	}
	req.App, req.Repo = &app, repo
	rc, err := s.Install.Cluster(f)
	if err != nil {
		return jsonError(c, http.StatusPreconditionFailed, err.Error())
	}
	budget := req.Wait + installSlack
	lock, running, err := s.Jobs.LockInstall(ctx, f.ID, budget+time.Minute)
	switch {
	case err != nil:
		s.Logger.Error("argocd install: lock", "fabric_id", f.ID, "err", err)
		return jsonError(c, http.StatusServiceUnavailable, "job store unavailable")
	case lock == nil:
		return c.JSON(http.StatusConflict, map[string]string{"error": "an Argo CD installation for fabric " + f.Name + " is already running",
			"job": running, "status_url": "/api/v1/jobs/" + running})
	}
	job, err := s.Jobs.CreateKind(ctx, f.ID, jobs.KindArgoCDInstall)
	if err == nil {
		err = lock.Hold(ctx, job.ID)
	}
	if err != nil {
		lock.Release(context.WithoutCancel(ctx))
		s.Logger.Error("argocd install: job not created", "fabric_id", f.ID, "err", err)
		return jsonError(c, http.StatusServiceUnavailable, "job store unavailable")
	}
	// The installation outlives the request; a shutdown cancels it (the
	// job then says so) and Stop waits for it.
	ictx, cancel := context.WithTimeout(s.ctx, budget)
	if !s.goBackground(func() {
		defer cancel()
		defer lock.Release(context.WithoutCancel(ictx))
		s.runInstall(ictx, job, f, rc, req)
	}) {
		cancel()
		lock.Release(context.WithoutCancel(ctx))
		return jsonError(c, http.StatusServiceUnavailable, "the sidecar is shutting down; ask again")
	}
	s.Logger.Info("argocd install started", "fabric_id", f.ID, "fabric", f.Name, "job", job.ID, "source", req.Source,
		"namespace", app.Namespace, "application", app.Name)
	return c.JSON(http.StatusAccepted, SyncResponse{Job: job, StatusURL: "/api/v1/jobs/" + job.ID})
}

// installRequest is the installation a request body asks for.
func installRequest(body InstallBody, manifest string, timeout time.Duration) (install.Request, error) {
	req := install.Request{Source: manifest, Wait: timeout}
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
func (s *Server) runInstall(ctx context.Context, job jobs.Job, f netbox.Fabric, rc *rest.Config, req install.Request) {
	log := s.Logger.With("component", "argocd-install", "fabric_id", f.ID, "fabric", f.Name, "job", job.ID)
	update := func(fn func(*jobs.Job)) {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.Jobs.Update(uctx, job.ID, fn); err != nil {
			log.Warn("argocd install: job not updated", "err", err)
		}
	}
	update(func(j *jobs.Job) { j.State, j.Attempts = jobs.Running, 1 })
	req.Progress = func(p install.Progress) {
		update(func(j *jobs.Job) { j.Phase, j.Done, j.Total = p.Phase.Description(), p.Done, p.Total })
	}
	s.installStatus(ctx, f, installFields(nil, false))
	res, err := s.Install.Run(ctx, rc, req)
	if errors.Is(err, context.Canceled) {
		err = fmt.Errorf("stopped: the sidecar is shutting down (%w); ask again", err)
	}
	s.installStatus(ctx, f, installFields(err, true))
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

// installFields are the fabric's fields in NetBox (the plugin's choices)
// while an installation runs (done false), and once it ended with err.
func installFields(err error, done bool) map[string]any {
	switch {
	case !done:
		return map[string]any{"gitops_setup_status": "installing", "argocd_health_status": "installing", "gitops_setup_error": ""}
	case err != nil:
		return map[string]any{"gitops_setup_status": "error", "argocd_health_status": "failed", "gitops_setup_error": err.Error()}
	}
	// Install waited for Argo CD's workloads to be ready.
	return map[string]any{"argocd_installed": true, "gitops_setup_status": "ready", "argocd_health_status": "healthy",
		"gitops_setup_error": ""}
}

// installStatus shows fields on the fabric, even when ctx ended.
func (s *Server) installStatus(ctx context.Context, f netbox.Fabric, fields map[string]any) {
	if s.Install.Status == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	s.Install.Status(sctx, f, fields)
}
