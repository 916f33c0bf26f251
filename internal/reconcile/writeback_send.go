package reconcile

import (
	"context"
	"errors"
	"sort"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// sendPatches PATCHes b's objects per kind, each decided against the
// newest version known (toSend) and minus what NetBox refused before, and
// returns the journal entries of new refusals.
func (w *writer) sendPatches(ctx context.Context, b *wbBatch) []netbox.JournalEntry {
	var journal []netbox.JournalEntry
	byKind := map[string][]patchKey{}
	for k := range b.patches {
		byKind[k.kind] = append(byKind[k.kind], k)
	}
	for _, k := range kind.CRs() {
		keys := byKind[k.Name]
		if len(keys) == 0 {
			continue
		}
		known, err := w.versions.Newest(ctx, b.fabric, keys)
		if err != nil {
			w.r.logger.Warn("objects' newest versions not read; writing from the run's read", "fabric", b.name, "err", err)
		}
		var ps []netbox.Patch
		for _, key := range keys {
			kn, has := known[key]
			if base, ok := b.base[key]; ok && (!has || !newer(kn.LastUpdated, base.LastUpdated)) {
				kn, has = base, true // the run's read is the newest version known
			}
			send, lu := toSend(b.patches[key], b.lastUpdated[key], kn, has)
			if send == nil {
				w.count(patchSkipped, 1)
				continue
			}
			ps = append(ps, netbox.Patch{ID: key.id, Fields: send, LastUpdated: lu})
		}
		ps, ending := w.filter(ctx, b, k, ps)
		sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
		for len(ps) > 0 && ctx.Err() == nil {
			n := min(len(ps), writeBackChunk)
			journal = append(journal, w.patch(ctx, b, k, ps[:n], ending, true)...)
			ps = ps[n:]
		}
	}
	return journal
}

// patch sends ps (objects of kind k), records NetBox's answers as the
// objects' newest versions and counts the results. Objects changed since
// the version sent are re-read and sent once more when retry.
func (w *writer) patch(ctx context.Context, b *wbBatch, k kind.Kind, ps []netbox.Patch, ending map[int64]bool, retry bool) []netbox.JournalEntry {
	res, err := w.r.wb.PatchObjects(ctx, k, ps)
	if err != nil {
		w.r.logger.Warn("write-back to NetBox failed; retried by the next reconcile", "fabric", b.name, "kind", k.Name, "err", err)
		b.failed = true
	}
	w.saw(ctx, b, k, res.Saved...)
	w.count(patchOK, len(res.Saved))
	w.count(patchGone, res.Gone)
	w.count(patchRefused, len(res.Refused))
	w.count(patchConflict, len(res.Conflicted))
	journal := w.objectsRefused(ctx, b, k, ps, res.Refused, ending, err == nil)
	if len(res.Conflicted) == 0 {
		return journal
	}
	if !retry {
		w.r.logger.Info("write-back left to the reconcile of an edit made in NetBox meanwhile", "fabric", b.name,
			"kind", k.Name, "objects", len(res.Conflicted))
		return journal
	}
	return append(journal, w.reread(ctx, b, k, res.Conflicted)...)
}

// reread reads each object NetBox skipped as changed since the version
// sent (412) alone, by id, and writes once more what it still needs, with
// its new version. The change is someone's edit (its own webhook queues
// its reconcile) or a write of ours this writer did not know of: no
// reconcile of the fabric is queued for it.
func (w *writer) reread(ctx context.Context, b *wbBatch, k kind.Kind, ids []int64) []netbox.JournalEntry {
	var again []netbox.Patch
	for _, id := range ids {
		key := patchKey{k.Name, id}
		obj, err := w.r.nb.GetObject(ctx, k, id)
		if errors.Is(err, netbox.ErrNotFound) {
			continue // deleted: its webhook reconciles the fabric
		}
		if err != nil {
			w.r.logger.Warn("object changed since read not read again; written by a later run", "fabric", b.name,
				"kind", k.Name, "id", id, "err", err)
			b.failed = true
			continue
		}
		w.saw(ctx, b, k, obj)
		send, lu := toSend(b.patches[key], b.lastUpdated[key], obj, true)
		if send == nil {
			w.count(patchSkipped, 1)
			continue
		}
		again = append(again, netbox.Patch{ID: id, Fields: send, LastUpdated: lu})
	}
	if len(again) == 0 {
		return nil
	}
	again, ending := w.filter(ctx, b, k, again)
	return w.patch(ctx, b, k, again, ending, false)
}

// saw records objs of kind k as their newest known versions.
func (w *writer) saw(ctx context.Context, b *wbBatch, k kind.Kind, objs ...netbox.Object) {
	if len(objs) == 0 {
		return
	}
	m := make(map[patchKey]netbox.Object, len(objs))
	for _, o := range objs {
		m[patchKey{k.Name, o.ID}] = o
	}
	if err := w.versions.Saw(ctx, b.fabric, m); err != nil {
		w.r.logger.Warn("objects' newest versions not recorded; a later stale write may meet a 412", "fabric", b.name, "err", err)
	}
}
