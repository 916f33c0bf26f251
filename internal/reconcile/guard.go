package reconcile

import (
	"fmt"
	"math"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// DefaultMaxDeleteFraction is HNP_MAX_DELETE_FRACTION's default.
const DefaultMaxDeleteFraction = 0.5

// EventResyncAllowDeletes marks the hint of a re-sync the user confirmed
// with `hnp-sidecar resync --allow-deletes`: that run passes the mass
// deletion guard. Like EventResync it names no NetBox change.
const EventResyncAllowDeletes = "resync-allow-deletes"

// guardFloor: removing at most this many files never trips the guard, so
// a fabric of one or two files can lose one without a confirmation (its
// 404 is still required). A restricted token that hides a small fabric
// whole (two files or more) is still refused.
const guardFloor = 1

// WithMaxDeleteFraction sets the guard's limit (HNP_MAX_DELETE_FRACTION):
// a run that would remove more than this fraction of a fabric's files in
// Git without a delete webhook for each is refused. 1 or more turns the
// guard off.
func WithMaxDeleteFraction(f float64) Option { return func(r *Reconciler) { r.maxDelete = f } }

// allowDeletes reports whether a hint of the run is a confirmed re-sync.
func allowDeletes(hints []queue.Hint) bool {
	for _, h := range hints {
		if h.Event == EventResyncAllowDeletes {
			return true
		}
	}
	return false
}

// guard refuses a run whose removals without a delete webhook (a 404 by
// id, a file no object claims) are more than the fraction of the fabric's
// files in Git: a NetBox token whose permissions hide objects answers 404
// for them, exactly as if they were deleted, and must never empty Git.
func (r *Reconciler) guard(f netbox.Fabric, ev evidence, hints []queue.Hint) error {
	frac := r.maxDelete
	if frac <= 0 {
		frac = DefaultMaxDeleteFraction
	}
	n, total := ev.unconfirmed(), ev.files
	if n <= guardFloor || frac >= 1 || float64(n) <= frac*float64(total) {
		return nil
	}
	if allowDeletes(hints) {
		r.logger.Warn("mass deletion confirmed with --allow-deletes", "fabric", f.Name, "removed", n, "files", total)
		return nil
	}
	if r.guarded != nil {
		r.guarded.Inc()
	}
	return configError(f, nil, "the run would remove %d of its %d files in Git (more than %s) without a delete webhook "+
		"for them: NetBox's lists lack them and reading them by id answers 404 (%s). A NetBox token whose permissions "+
		"hide objects looks exactly like this. Nothing was pushed. Check the sidecar's NetBox permissions; if the "+
		"objects really are deleted, run `hnp-sidecar resync --fabric %s --allow-deletes`",
		n, total, percent(frac), ev.sample(), f.Name)
}

func percent(f float64) string { return fmt.Sprintf("%d%%", int(math.Round(f*100))) }
