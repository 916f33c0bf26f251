package reconcile

import (
	"context"
	"errors"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
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

// Backlog says how many keys wait in the queue or run (queue.Queue).
type Backlog interface {
	Backlog(ctx context.Context) (int64, error)
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
	if h.backlog != nil {
		n, err := h.backlog.Backlog(ctx)
		if err != nil || n > int64(h.maxBacklog) {
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
