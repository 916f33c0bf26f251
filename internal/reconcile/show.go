package reconcile

import (
	"context"
	"errors"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// Argo CD's syncer and drift detection move object states outside a run.
// ShowStates takes those moves to NetBox directly: the background writer
// reads each object (and the fabric) fresh by id and writes what differs,
// with no reconcile of the fabric, so an Argo CD sync costs NetBox a few
// requests per changed object instead of a full read of every kind.

// objectRef is one NetBox object.
type objectRef struct {
	kind kind.Kind
	id   int64
}

// ShowStates has the current states of keys (objects of fabric) and the
// fabric's state fields written to NetBox by the background writer.
func (r *Reconciler) ShowStates(ctx context.Context, fabric int64, keys []state.Key) {
	if r.wb == nil || r.states == nil {
		return
	}
	b := &wbBatch{fabric: fabric, patches: map[patchKey]map[string]any{}, lastUpdated: map[patchKey]string{},
		fabricFields: map[string]any{}, show: map[string]bool{}}
	for _, k := range keys {
		b.show[state.Field(k.Kind, k.Namespace, k.Name)] = true
	}
	if !r.writer.submit(b) {
		r.writer.write(ctx, b)
	}
}

// resolveShow turns b's objects to show, and its fabric, into patches,
// from fresh reads of NetBox (overriding older values of a run).
func (w *writer) resolveShow(ctx context.Context, b *wbBatch) {
	if len(b.show) == 0 {
		return
	}
	r := w.r
	recs, err := r.states.Load(ctx, b.fabric)
	if err != nil {
		r.logger.Warn("write-back of states to NetBox skipped", "fabric_id", b.fabric, "err", err)
		return
	}
	var refs []objectRef
	for field := range b.show {
		if rec, ok := recs[field]; ok && rec.NetBoxID != 0 {
			if k, ok := kind.Named(rec.Kind); ok {
				refs = append(refs, objectRef{kind: k, id: rec.NetBoxID})
			}
		}
	}
	b.show = nil
	w.addFresh(ctx, b, recs, refs)
	f, err := r.nb.GetFabric(ctx, b.fabric)
	if err != nil {
		r.logger.Warn("fabric not read for its write-back", "fabric_id", b.fabric, "err", err)
		return
	}
	b.name = f.Name
	byState := map[state.State]int{}
	invalid := 0
	for _, rec := range recs {
		byState[rec.State]++
		if rec.State == state.Draft && rec.Reason != "" {
			invalid++
		}
	}
	for k, v := range r.stateFields(f, nil, invalid, byState) {
		b.fabricFields[k] = v
	}
}

// addFresh reads refs from NetBox and adds the patches their records need.
func (w *writer) addFresh(ctx context.Context, b *wbBatch, recs map[string]state.Record, refs []objectRef) {
	byID := map[int64]state.Record{}
	for _, rec := range recs {
		byID[rec.NetBoxID] = rec
	}
	for _, ref := range refs {
		obj, err := w.r.nb.GetObject(ctx, ref.kind, ref.id)
		if errors.Is(err, netbox.ErrNotFound) {
			continue // deleted: its webhook reconciles the fabric
		}
		if err != nil {
			w.r.logger.Warn("object not read for its write-back", "fabric_id", b.fabric, "kind", ref.kind.Name, "id", ref.id, "err", err)
			continue
		}
		rec, has := byID[ref.id]
		key := patchKey{ref.kind.Name, ref.id}
		delete(b.patches, key)
		if fields, _ := objectFields(rec, has, "", obj); len(fields) > 0 {
			b.patches[key], b.lastUpdated[key] = fields, obj.LastUpdated
		}
	}
}

// reshow writes once more, from a fresh read, the objects NetBox refused
// as changed since they were read (412). Our own earlier write is the usual
// change; an engineer's edit is the other, and its webhook reconciles the
// fabric anyway: what still conflicts now is left to that.
func (w *writer) reshow(ctx context.Context, b *wbBatch, refs []objectRef) {
	if w.r.states == nil {
		return
	}
	recs, err := w.r.states.Load(ctx, b.fabric)
	if err != nil {
		return
	}
	again := &wbBatch{fabric: b.fabric, name: b.name, patches: map[patchKey]map[string]any{}, lastUpdated: map[patchKey]string{}}
	w.addFresh(ctx, again, recs, refs)
	byKind := map[string][]netbox.Patch{}
	for k, f := range again.patches {
		byKind[k.kind] = append(byKind[k.kind], netbox.Patch{ID: k.id, Fields: f, LastUpdated: again.lastUpdated[k]})
	}
	for _, k := range kind.CRs() {
		if ps := byKind[k.Name]; len(ps) > 0 {
			if res, err := w.r.wb.PatchObjects(ctx, k, ps); err != nil || len(res.Conflicted) > 0 {
				w.r.logger.Info("write-back left to the reconcile of an edit made in NetBox meanwhile", "fabric", b.name,
					"kind", k.Name, "objects", len(res.Conflicted), "err", err)
			}
		}
	}
}
