package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/jobs"
)

// InstallArgoCDBody is the request `argocd install` sends for manifest
// (an http(s) URL the sidecar fetches, or a local file whose content is
// sent; "" leaves HNP_ARGOCD_INSTALL_MANIFEST) and wait ("" or a
// duration).
func InstallArgoCDBody(manifest string, wait time.Duration) (api.InstallBody, error) {
	var b api.InstallBody
	if wait > 0 {
		b.Wait = wait.String()
	}
	lower := strings.ToLower(manifest)
	switch {
	case manifest == "":
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		b.ManifestURL = manifest
	default:
		f, err := os.Open(strings.TrimPrefix(manifest, "file://"))
		if err != nil {
			return b, fmt.Errorf("--manifest: %w", err)
		}
		defer func() { _ = f.Close() }()
		data, err := io.ReadAll(io.LimitReader(f, 32<<20+1))
		if err != nil {
			return b, fmt.Errorf("--manifest: %w", err)
		}
		if len(data) > 32<<20 {
			return b, fmt.Errorf("--manifest: %s is larger than 32 MiB", manifest)
		}
		b.Manifest = string(data)
	}
	return b, nil
}

// InstallArgoCD asks the sidecar to install Argo CD into fabric's cluster
// (id or name) and follows the job, writing progress to out, until it
// ends or ctx does.
func InstallArgoCD(ctx context.Context, cfg config.ClientConfig, fabric string, body api.InstallBody, out io.Writer) (jobs.Job, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return jobs.Job{}, err
	}
	var started api.SyncResponse
	if err := callBody(ctx, cfg, http.MethodPost, "/api/v1/fabrics/"+url.PathEscape(fabric)+"/argocd/install",
		bytes.NewReader(raw), http.StatusAccepted, &started); err != nil {
		return jobs.Job{}, err
	}
	begin := time.Now()
	for {
		var j jobs.Job
		if err := call(ctx, cfg, http.MethodGet, started.StatusURL, http.StatusOK, &j); err != nil {
			return j, err
		}
		fmt.Fprintf(out, "\r%s %5.1fs", installLine(j), time.Since(begin).Seconds())
		switch j.State {
		case jobs.Succeeded, jobs.Failed:
			fmt.Fprintln(out)
			if a := j.Applied; a != nil {
				fmt.Fprintf(out, "%d objects: %d created, %d changed, %d unchanged\n", a.Created+a.Changed+a.Unchanged, a.Created, a.Changed, a.Unchanged)
			}
			if j.State == jobs.Failed {
				return j, fmt.Errorf("argocd install: job %s failed: %s", j.ID, j.Error)
			}
			fmt.Fprintln(out, j.Phase)
			return j, nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(out)
			return j, fmt.Errorf("argocd install: job %s still %s (it goes on; see %s): %w", j.ID, j.State, started.StatusURL, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// installLine is an installation job as one line, e.g. "job 1a2b:
// fabric 3 running [######----] 4/7 waiting for workloads to be ready".
func installLine(j jobs.Job) string {
	const width = 20
	bar := ""
	if j.Total > 0 && j.State == jobs.Running {
		n := min(width, j.Done*width/j.Total)
		bar = fmt.Sprintf(" [%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat("-", width-n), j.Done, j.Total)
	}
	line := fmt.Sprintf("job %s: fabric %d %s%s", j.ID, j.Fabric, j.State, bar)
	if j.State == jobs.Running && j.Phase != "" {
		line += " " + j.Phase
	}
	return fmt.Sprintf("%-110s", line)
}
