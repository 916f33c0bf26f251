package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/render"
)

// ErrOverlap: two fabrics write the same repository and branch, in the
// same directory or one inside the other's. Each full reconcile replaces
// its managed/ directory, so each would delete the other's files (and
// Argo CD would prune their CRs): both are refused until one moves.
var ErrOverlap = errors.New("reconcile: fabrics overlap in Git")

// overlapReason starts the reason of every overlap problem, so a fabric
// that shows one is known without asking NetBox again.
const overlapReason = "its Git directory overlaps"

// WithOverlapCheck refuses a fabric whose Git target overlaps another
// fabric's in NetBox (fabrics lists them all); q queues the others so each
// shows the error too, and again when it is resolved.
func WithOverlapCheck(fabrics FabricLister, q Enqueuer) Option {
	return func(r *Reconciler) { r.fabrics, r.enqueue = fabrics, q }
}

// overlap is a *ConfigError naming every fabric whose target overlaps t,
// nil when none does. The others are queued unless they already show an
// overlap; when f showed one and none is left, the fabrics that show one
// are queued to look again.
func (r *Reconciler) overlap(ctx context.Context, f netbox.Fabric, t Target) error {
	if r.fabrics == nil {
		return nil
	}
	all, err := r.fabrics.ListFabrics(ctx)
	if err != nil {
		return fmt.Errorf("reconcile: fabric %s: list fabrics for the overlap check: %w", f.Name, err)
	}
	quiet := slog.New(slog.DiscardHandler) // each fabric's own problems are its own run's to tell
	mine := t
	mine.URL = r.repoKey(t.URL)
	var clash []string
	var others []int64
	for _, o := range all {
		if o.ID == f.ID {
			continue
		}
		ot, err := resolveTarget(ctx, r.nb, r.defaults, quiet, o)
		if errors.Is(err, ErrFabricConfig) {
			continue // it cannot write anywhere; its own run says why
		}
		if err != nil { // not known where it writes: fail closed, try again
			return fmt.Errorf("reconcile: fabric %s: overlap check: fabric %s: %w", f.Name, o.Name, err)
		}
		if ot.URL = r.repoKey(ot.URL); !overlaps(mine, ot) {
			continue
		}
		clash = append(clash, fmt.Sprintf("fabric %q (id %d, directory %q)", o.Name, o.ID, "/"+ot.Root))
		others = append(others, o.ID)
	}
	if len(clash) == 0 {
		r.recheckOverlaps(ctx, f)
		return nil
	}
	for _, id := range others {
		if shows, known := r.showsOverlap(ctx, id); known && !shows {
			r.queueFabric(ctx, id)
		}
	}
	return configError(f, ErrOverlap, "%s with %s in %s (branch %s): a full reconcile of either would delete the other's "+
		"files, so neither is written; give each fabric its own gitops_directory (not one inside the other) or its own branch or repository",
		overlapReason, strings.Join(clash, ", "), t.URL, t.Branch)
}

// overlaps: same repository and branch, and one root is the other or
// contains it ("" is the repository's top, which contains every root).
// Roots are compared as they are written (render.CleanRoot: "./a",
// "a/." and "x/../a" are "a"); a root that cannot be written overlaps
// nothing.
func overlaps(a, b Target) bool {
	if a.Branch != b.Branch || sameRepo(a.URL) != sameRepo(b.URL) {
		return false
	}
	ra, errA := render.CleanRoot(a.Root)
	rb, errB := render.CleanRoot(b.Root)
	if errA != nil || errB != nil {
		return false
	}
	return ra == rb || ra == "" || rb == "" || strings.HasPrefix(ra, rb+"/") || strings.HasPrefix(rb, ra+"/")
}

// repoKey is the form two fabrics' repositories are compared by: the
// access policy's canonical URL (ssh:// and scp-like alike, default ports
// dropped) when there is a policy, then sameRepo.
func (r *Reconciler) repoKey(raw string) string {
	if r.defaults.Access != nil {
		if rem, err := r.defaults.Access.Check(raw); err == nil {
			raw = rem.String()
		}
	}
	return sameRepo(raw)
}

// sameRepo is the form of a repository URL two fabrics are compared by:
// scheme and host in lower case, no credentials, no trailing "/" or ".git".
func sameRepo(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return strings.TrimSuffix(strings.TrimRight(strings.TrimSpace(raw), "/"), ".git")
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), ".git")
	u.RawPath = ""
	return u.String()
}

// showsOverlap says whether fabric shows an overlap problem; known is
// false without a problem store or when it did not answer (then nobody
// is queued: queuing blind could ping-pong between two fabrics).
func (r *Reconciler) showsOverlap(ctx context.Context, fabric int64) (shows, known bool) {
	return r.problemIs(ctx, fabric, overlapReason)
}

// recheckOverlaps queues every fabric that shows an overlap when f showed
// one and no longer overlaps: the other side of it may be free now.
func (r *Reconciler) recheckOverlaps(ctx context.Context, f netbox.Fabric) {
	if shows, _ := r.showsOverlap(ctx, f.ID); !shows {
		return
	}
	list, err := r.problems.List(ctx)
	if err != nil {
		r.logger.Warn("fabrics that showed an overlap not queued again", "fabric", f.Name, "err", err)
		return
	}
	for _, p := range list {
		if p.Fabric != f.ID && strings.HasPrefix(p.Reason, overlapReason) {
			r.queueFabric(ctx, p.Fabric)
		}
	}
}

func (r *Reconciler) queueFabric(ctx context.Context, fabric int64) {
	if r.enqueue == nil {
		return
	}
	if err := queueResync(ctx, r.enqueue, fabric); err != nil {
		r.logger.Warn("fabric not queued for the overlap check", "fabric_id", fabric, "err", err)
	}
}
