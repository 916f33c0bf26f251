package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/jobs"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/lease"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// JobPrefix starts the request id of a hint made for a re-sync job.
const JobPrefix = "job:"

// JobRecorder keeps the status of re-sync jobs.
type JobRecorder interface {
	Update(ctx context.Context, id string, fn func(*jobs.Job)) error
}

// ObjectReader finds the fabric of an object whose hint did not carry it.
type ObjectReader interface {
	GetObject(ctx context.Context, k kind.Kind, id int64) (netbox.Object, error)
}

// Handler is the queue's work: a hint for an object (or a fabric) makes
// that fabric in Git match NetBox. Hints for many objects of one fabric
// coalesce: a full reconcile that started after a hint was received
// already covers it, so a bulk edit of 1,000 objects is a few reconciles
// and a few commits, not 1,000.
//
// Across replicas, a fabric is written by the holder of its lease only
// (Leases): a key of a fabric another replica is writing is handed back
// to the queue without counting an attempt, and the holder's run, or the
// next one once the lease moves, covers it.
type Handler struct {
	r       *Reconciler
	objects ObjectReader
	jobs    JobRecorder // nil: no job tracking
	leases  Leases      // nil: one replica, no lease
	// backlog and maxBacklog decide incremental runs (handler_incremental.go).
	backlog    Backlog
	maxBacklog int
	now        func() time.Time
	mu         sync.Mutex
	fabrics    map[int64]*fabricState
}

type fabricState struct {
	mu sync.Mutex
	// covered is when the last successful reconcile started reading NetBox:
	// every change whose webhook arrived before it is in Git. With leases
	// it is kept in Redis, where every replica sees it.
	covered time.Time
}

// NewHandler builds the queue handler on r; jobs may be nil.
func NewHandler(r *Reconciler, objects ObjectReader, jobs JobRecorder) *Handler {
	return &Handler{r: r, objects: objects, jobs: jobs, now: time.Now, fabrics: map[int64]*fabricState{}}
}

// WithLeases makes the handler write a fabric only while it holds the
// fabric's lease: its pushes and state records are fenced by it.
func (h *Handler) WithLeases(l Leases) *Handler {
	h.leases = l
	return h
}

// Handle reconciles the fabric of one key.
func (h *Handler) Handle(ctx context.Context, it queue.Item) error {
	objectType, id, err := queue.ParseKey(string(it.Key))
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	k, ok := kind.Lookup(objectType)
	if !ok {
		h.r.logger.Warn("key of an object type the sidecar does not manage; dropped", "key", string(it.Key))
		return nil
	}
	latest, hinted := it.Latest()
	if k.IsFabric() {
		if hinted && latest.Event == "deleted" {
			h.r.logger.Warn("fabric deleted in NetBox: no longer managed; its files stay in Git", "fabric_id", id)
			h.r.FabricGone(ctx, id)
			return nil
		}
		return h.syncFabric(ctx, id, it, nil)
	}
	fabric := int64(0)
	moved := map[int64]bool{} // fabrics the object left: their file must go
	for _, hint := range it.Hints {
		if hint.Fabric != 0 {
			fabric = hint.Fabric
		}
		if hint.PrevFabric != 0 && hint.PrevFabric != hint.Fabric {
			moved[hint.PrevFabric] = true
		}
	}
	for old := range moved {
		if old == fabric {
			continue
		}
		if err := h.syncFabric(ctx, old, it, nil); err != nil {
			return err
		}
	}

	if fabric == 0 {
		o, err := h.objects.GetObject(ctx, k, id)
		if errors.Is(err, netbox.ErrNotFound) {
			h.r.logger.Warn("object gone and its fabric unknown; the next full reconcile removes its file", "key", string(it.Key))
			return nil
		}
		if err != nil {
			return fmt.Errorf("reconcile: find fabric of %s: %w", it.Key, err)
		}
		fabric = int64(o.Fabric)
	}
	var one *objectKey
	if len(moved) == 0 {
		one = &objectKey{kind: k, id: id}
	}
	return h.syncFabric(ctx, fabric, it, one)
}

func (h *Handler) state(fabric int64) *fabricState {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.fabrics[fabric]
	if st == nil {
		st = &fabricState{}
		h.fabrics[fabric] = st
	}
	return st
}

// syncFabric reconciles the fabric for it: incrementally for one object
// (when one is given and the run may be: see incremental), else in full.
func (h *Handler) syncFabric(ctx context.Context, fabric int64, it queue.Item, one *objectKey) error {
	st := h.state(fabric)
	st.mu.Lock()
	defer st.mu.Unlock()
	if done, err := h.skipCovered(ctx, fabric, st, it); done || err != nil {
		return err
	}
	ctx, l, err := h.lease(ctx, fabric)
	if err != nil {
		return err
	}
	defer l.Release()
	if l.Lease != nil {
		// the previous holder may have finished a run that covers us
		if done, err := h.skipCovered(ctx, fabric, st, it); done || err != nil {
			return err
		}
	}
	h.record(ctx, it, func(j *jobs.Job) { j.State, j.Attempts = jobs.Running, it.Attempt })
	start := h.now()
	res, full, err := h.incremental(ctx, fabric, it, one)
	if full {
		res, err = h.r.SyncWithProgress(ctx, fabric, it.Hints, h.progress(ctx, it))
	}
	switch {
	case errors.Is(err, lease.ErrLost) || errors.Is(err, state.ErrFenced):
		// Another replica took the fabric over mid-run: nothing more was
		// pushed or recorded under the old lease; its run covers the hints.
		h.r.logger.Warn("fabric lease lost during the run; the new holder writes the fabric", "fabric_id", fabric, "err", err)
		h.record(ctx, it, func(j *jobs.Job) { j.State, j.Error = jobs.Retrying, err.Error() })
		return &lease.HeldError{Fabric: fabric, Holder: "another replica", TTL: time.Second}
	case errors.Is(err, ErrFabricGone):
		h.r.logger.Warn("fabric not found in NetBox; nothing to reconcile", "fabric_id", fabric, "key", string(it.Key))
		h.r.FabricGone(ctx, fabric)
		h.record(ctx, it, func(j *jobs.Job) { j.State, j.Error = jobs.Succeeded, "fabric not found in NetBox" })
		return nil
	case errors.Is(err, ErrFabricConfig):
		// Told where the user looks (configProblem); retrying cannot fix it.
		// The fabric's next change, the periodic reconcile or a re-sync
		// tries again.
		h.record(ctx, it, func(j *jobs.Job) {
			j.State, j.Error, j.Objects, j.Phase = jobs.Failed, reasonOf(err), res.Objects, ""
		})
		return nil
	}
	if err != nil {
		h.record(ctx, it, func(j *jobs.Job) { j.State, j.Error = jobs.Retrying, err.Error() })
		return err
	}
	if full {
		st.covered = start // an incremental run covers its object only
	}
	if full && l.Lease != nil {
		if err := l.Cover(ctx, start); err != nil {
			h.r.logger.Warn("fabric coverage not recorded; later hints run again", "fabric_id", fabric, "err", err)
		}
	}
	h.record(ctx, it, func(j *jobs.Job) {
		j.State, j.Error, j.Objects, j.Invalid = jobs.Succeeded, "", res.Objects, len(res.Invalid)
		j.Phase, j.Done = "", j.Total
		j.Commit, j.Committed, j.Problems = res.Commit, res.Committed, res.Reasons()
		if len(j.Problems) > 50 {
			j.Problems = j.Problems[:50]
		}
	})
	return nil
}
