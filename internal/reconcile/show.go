package reconcile

import (
	"context"
	"errors"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// Argo CD's syncer and drift detection move object states outside a run.
// ShowStates takes those moves to NetBox directly: the objects are marked
// in Redis (so neither a restart nor an outage loses them), and the
// background writer reads each one (and the fabric) fresh by id, writes
// what differs and unmarks them once that landed. No reconcile of the
// fabric: an Argo CD sync costs NetBox a few requests per changed object.

// Marks is where moved-but-not-shown objects are kept (state.Store).
type Marks interface {
	MarkShow(ctx context.Context, fabric int64, fields ...string) error
	Shown(ctx context.Context, fabric int64, fields ...string) error
	ToShow(ctx context.Context) (map[int64][]string, error)
}

// ShowStates has the current states of keys (objects of fabric) and the
// fabric's state fields written to NetBox by the background writer.
func (r *Reconciler) ShowStates(ctx context.Context, fabric int64, keys []state.Key) {
	if r.wb == nil || r.states == nil || len(keys) == 0 {
		return
	}
	fields := make([]string, len(keys))
	for i, k := range keys {
		fields[i] = state.Field(k.Kind, k.Namespace, k.Name)
	}
	if m, ok := r.states.(Marks); ok {
		if err := m.MarkShow(ctx, fabric, fields...); err != nil {
			r.logger.Warn("moved states not marked; shown now, but lost if this write fails", "fabric_id", fabric, "err", err)
		}
	}
	r.show(ctx, fabric, fields)
}

// show hands fields of fabric to the writer.
func (r *Reconciler) show(ctx context.Context, fabric int64, fields []string) {
	b := &wbBatch{fabric: fabric, patches: map[patchKey]map[string]any{}, lastUpdated: map[patchKey]string{},
		fabricFields: map[string]any{}, show: map[string]bool{}}
	for _, f := range fields {
		b.show[f] = true
	}
	if !r.writer.submit(b) {
		r.writer.write(ctx, b)
	}
}

// showMarked hands every marked object to the writer (at start and now and
// then: what a replica marked and could not write, another writes).
func (r *Reconciler) showMarked(ctx context.Context) {
	m, ok := r.states.(Marks)
	if !ok || r.wb == nil {
		return
	}
	marked, err := m.ToShow(ctx)
	if err != nil {
		r.logger.Warn("moved states not read; shown by a later try", "err", err)
		return
	}
	for fabric, fields := range marked {
		r.show(ctx, fabric, fields)
	}
}

// resolveShow turns b's objects to show, and its fabric, into patches from
// fresh reads of NetBox, and returns the fields it showed.
func (w *writer) resolveShow(ctx context.Context, b *wbBatch) []string {
	if len(b.show) == 0 {
		return nil
	}
	r := w.r
	shown := make([]string, 0, len(b.show))
	for f := range b.show {
		shown = append(shown, f)
	}
	b.show = nil
	recs, err := r.states.Load(ctx, b.fabric)
	if err != nil {
		r.logger.Warn("write-back of states to NetBox skipped; tried again later", "fabric_id", b.fabric, "err", err)
		b.failed = true
		return shown
	}
	w.addFresh(ctx, b, recs, shown)
	f, err := r.nb.GetFabric(ctx, b.fabric)
	if err != nil {
		r.logger.Warn("fabric not read for its write-back; tried again later", "fabric_id", b.fabric, "err", err)
		b.failed = true
		return shown
	}
	b.name, b.fabricUpdated = f.Name, f.LastUpdated
	byState := map[state.State]int{}
	invalid := 0
	for _, rec := range recs {
		byState[rec.State]++
		if rec.State == state.Draft && rec.Reason != "" {
			invalid++
		}
	}
	// The state fields are computed from now: a merged run's older values
	// must not be written over them.
	for _, k := range []string{"sync_status", "drift_status", "drift_count", "argocd_health_status"} {
		delete(b.fabricFields, k)
	}
	for k, v := range r.stateFields(f, nil, invalid+w.problemCount(ctx, b.fabric), byState) {
		b.fabricFields[k] = v
	}
	return shown
}

// problemCount is 1 when fabric has a configuration problem on record:
// it is out of sync whatever its objects' states say.
func (w *writer) problemCount(ctx context.Context, fabric int64) int {
	if w.r.problems == nil {
		return 0
	}
	if _, has, err := w.r.problems.Get(ctx, fabric); err == nil && has {
		return 1
	}
	return 0
}

// addFresh reads the objects of fields (record fields of recs) from NetBox
// and adds the patches their records need. A sync_error a run found
// (b's patch) is kept: only the run knows an object's invalid reason.
func (w *writer) addFresh(ctx context.Context, b *wbBatch, recs map[string]state.Record, fields []string) {
	for _, field := range fields {
		rec, has := recs[field]
		if !has || rec.NetBoxID == 0 {
			continue
		}
		k, ok := kind.Named(rec.Kind)
		if !ok {
			continue
		}
		obj, err := w.r.nb.GetObject(ctx, k, rec.NetBoxID)
		if errors.Is(err, netbox.ErrNotFound) {
			continue // deleted: its webhook reconciles the fabric
		}
		if err != nil {
			w.r.logger.Warn("object not read for its write-back; tried again later", "fabric_id", b.fabric, "kind", k.Name,
				"id", rec.NetBoxID, "err", err)
			b.failed = true
			continue
		}
		w.saw(ctx, b, k, obj)
		key := patchKey{k.Name, rec.NetBoxID}
		fresh, _ := objectFields(rec, true, "", obj)
		if runErr, ok := b.patches[key]["sync_error"]; ok {
			if runErr != obj.SyncError {
				fresh["sync_error"] = runErr
			} else {
				delete(fresh, "sync_error")
			}
		}
		delete(b.patches, key)
		if len(fresh) > 0 {
			b.patches[key], b.lastUpdated[key] = fresh, obj.LastUpdated
		}
	}
}

// shown unmarks what b showed once its writes landed (refusals included:
// they are told and recorded); after a failure they stay for a later try.
func (w *writer) shown(ctx context.Context, b *wbBatch, fields []string) {
	m, ok := w.r.states.(Marks)
	if !ok || len(fields) == 0 || b.failed {
		return
	}
	if err := m.Shown(ctx, b.fabric, fields...); err != nil {
		w.r.logger.Warn("shown states not unmarked; shown again later", "fabric_id", b.fabric, "err", err)
	}
}
