package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/jobs"
)

// ErrJobFailed: the sidecar ended the job without success; the error says why.
var ErrJobFailed = errors.New("resync: failed")

// ResyncOptions change what a re-sync may do.
type ResyncOptions struct {
	// AllowDeletes lets the run pass the mass deletion guard.
	AllowDeletes bool
}

// Resync asks the sidecar for a full reconcile of fabric (id or name) and follows the
// job, writing a progress line to out, until it succeeds, fails (ErrJobFailed) or ctx ends.
func Resync(ctx context.Context, cfg config.ClientConfig, fabric string, opts ResyncOptions, out io.Writer) (jobs.Job, error) {
	var started api.SyncResponse
	path := "/api/v1/fabrics/" + url.PathEscape(fabric) + "/sync"
	if opts.AllowDeletes {
		path += "?" + api.AllowDeletesParam + "=true"
	}
	if err := call(ctx, cfg, http.MethodPost, path, http.StatusAccepted, &started); err != nil {
		return jobs.Job{}, err
	}
	begin := time.Now()
	spin := `|/-\`
	for i := 0; ; i++ {
		var j jobs.Job
		if err := call(ctx, cfg, http.MethodGet, started.StatusURL, http.StatusOK, &j); err != nil {
			return j, err
		}
		fmt.Fprintf(out, "\r%c %s %5.1fs", spin[i%len(spin)], progressLine(j), time.Since(begin).Seconds())
		if j.State == jobs.Succeeded {
			fmt.Fprintf(out, "\n%d objects, %d invalid; commit %s (new commit: %v)\n", j.Objects, j.Invalid, j.Commit, j.Committed)
			for _, p := range j.Problems {
				fmt.Fprintln(out, "  invalid:", p)
			}
			return j, nil
		}
		if j.State == jobs.Failed {
			fmt.Fprintln(out)
			return j, fmt.Errorf("%w: job %s: fabric %d: %s", ErrJobFailed, j.ID, j.Fabric, j.Error)
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(out)
			return j, fmt.Errorf("resync: job %s still %s: %w", j.ID, j.State, ctx.Err())
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// progressLine is a job's state as one line with a bar, e.g.
// "job 1a2b: fabric 3 running [######----] 6/14 reading NetBox, 412 objects".
func progressLine(j jobs.Job) string {
	const width = 20
	bar := ""
	if j.Total > 0 {
		n := min(width, j.Done*width/j.Total)
		bar = fmt.Sprintf(" [%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat("-", width-n), j.Done, j.Total)
	}
	line := fmt.Sprintf("job %s: fabric %d %s%s", j.ID, j.Fabric, j.State, bar)
	if j.Phase != "" {
		line += fmt.Sprintf(" %s, %d objects", j.Phase, j.Objects)
	}
	if j.Attempts > 1 {
		line += fmt.Sprintf(" (attempt %d: %s)", j.Attempts, j.Error)
	}
	return fmt.Sprintf("%-100s", line)
}

// call sends a request to the sidecar's API with its token and decodes
// the answer into v; an answer other than want is an error with its body.
func call(ctx context.Context, cfg config.ClientConfig, method, path string, want int, v any) error {
	return callBody(ctx, cfg, method, path, nil, want, v)
}

// callBody is call with a JSON request body (nil: none).
func callBody(ctx context.Context, cfg config.ClientConfig, method, path string, body io.Reader, want int, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(cfg.SidecarURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("sidecar api: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+cfg.APIToken.Reveal())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("sidecar api: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		return fmt.Errorf("sidecar api: %s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("sidecar api: decode %s: %w", path, err)
	}
	return nil
}
