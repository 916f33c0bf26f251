package reconcile

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// FullBacklog: many keys wait in the queue (a bulk change): one full
// reconcile covers them all for less than a run per object.
const FullBacklog = "backlog"

// objectKey is the one object a queue key names.
type objectKey struct {
	kind kind.Kind
	id   int64
}

// Backlog counts the keys that wait in the queue or run (queue.Queue).
type Backlog interface {
	Stats(ctx context.Context) (queue.Stats, error)
}

// WithIncremental makes a single object's key an incremental run
// (Reconciler.SyncObject, which needs WithSnapshots) while at most max
// keys wait or run; more (a bulk change), and the run is a full one,
// which covers every hint received before it began. max <= 0: every run
// is a full one.
func (h *Handler) WithIncremental(b Backlog, max int) *Handler {
	h.backlog, h.maxBacklog = b, max
	return h
}

// incremental runs it incrementally when it may; full says the caller
// must run a full reconcile instead (nothing was pushed).
func (h *Handler) incremental(ctx context.Context, fabric int64, it queue.Item, one *objectKey) (res FabricResult, full bool, err error) {
	if one == nil || h.r.snaps == nil || h.maxBacklog <= 0 {
		return res, true, nil
	}
	for _, hint := range it.Hints {
		if hint.Event == EventResync || hint.Event == EventResyncAllowDeletes || strings.HasPrefix(hint.RequestID, JobPrefix) {
			return res, true, nil // asked for in full
		}
	}
	if h.r.inSnapshot(ctx, fabric, one, it.Hints) {
		h.r.logger.Debug("change already in Git: a run read the object at this version or a newer one",
			"fabric_id", fabric, "key", string(it.Key))
		return res, false, nil
	}
	if h.backlog != nil {
		st, err := h.backlog.Stats(ctx)
		if err != nil || st.Waiting+st.InFlight > int64(h.maxBacklog) {
			h.r.Fallback(FullBacklog)
			return res, true, nil
		}
	}
	res, err = h.r.SyncObject(ctx, fabric, one.kind, one.id, it.Hints)
	var nf *NeedFullError
	if errors.As(err, &nf) {
		h.r.logger.Info("full reconcile instead of an incremental one", "fabric", res.Fabric, "fabric_id", fabric,
			"key", string(it.Key), "reason", nf.Reason)
		return res, true, nil
	}
	return res, false, err
}

// inSnapshot says whether the hints' changes are already in Git: the
// fabric's snapshot holds the object at a last_updated at least as new as
// every hint's (a run read it after the change and pushed what it read).
// A bulk change's full run covers this way the webhooks NetBox delivers
// after it began. A delete, a move between fabrics or a hint without
// last_updated is never covered so.
func (r *Reconciler) inSnapshot(ctx context.Context, fabric int64, one *objectKey, hints []queue.Hint) bool {
	var newest time.Time
	for _, h := range hints {
		t, err := time.Parse(time.RFC3339Nano, h.LastUpdated)
		if err != nil || h.Event == "deleted" || (h.PrevFabric != 0 && h.PrevFabric != fabric) {
			return false
		}
		if t.After(newest) {
			newest = t
		}
	}
	if newest.IsZero() {
		return false
	}
	snap, ok, err := r.snaps.Load(ctx, fabric)
	if err != nil || !ok {
		return false
	}
	e, ok := snap.Entries[known.Field(one.kind.Name, one.id)]
	if !ok {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, e.LastUpdated)
	return err == nil && !t.Before(newest)
}
