package reconcile

import (
	"context"
	"fmt"
	"path"
	"sort"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/render"
)

// snapshot reads the fabric's managed/ files and the branch tip, before
// any object is read from NetBox.
func (r *Reconciler) snapshot(ctx context.Context, f netbox.Fabric, t Target) (snapshot, error) {
	managed, err := render.ManagedDir(t.Root)
	if err != nil {
		return snapshot{}, fmt.Errorf("reconcile: fabric %s: %w", f.Name, err)
	}
	mp, err := render.ManifestPath(t.Root)
	if err != nil {
		return snapshot{}, fmt.Errorf("reconcile: fabric %s: %w", f.Name, err)
	}
	tip, files, err := r.git.Files(ctx, t.URL, t.Branch, managed)
	if ce := gitDataError(f, t, err); ce != nil {
		return snapshot{}, ce
	}
	if err != nil {
		return snapshot{}, fmt.Errorf("reconcile: fabric %s: read Git: %w", f.Name, err)
	}
	s := newSnapshot(tip, files)
	s.owned = []string{managed, path.Dir(mp)}
	return s, nil
}

// planWithEvidence plans the fabric's files and the removals the evidence
// backs (evidence.go); objects the lists missed but a read by id found are
// added (returned objs and items) and planned from that read. The guard
// (guard.go) may refuse the run: a *ConfigError.
func (r *Reconciler) planWithEvidence(ctx context.Context, f netbox.Fabric, root string, snap snapshot, objs []render.Object,
	items []listed, hints []queue.Hint, res *FabricResult) ([]gitops.Change, evidence, []render.Object, []listed, error) {
	rf := render.Fabric{ID: f.ID, Name: f.Name}
	changes, invalid, err := Plan(rf, root, objs)
	if err != nil {
		return nil, evidence{}, nil, nil, err
	}
	probes, err := r.probe(ctx, f, snap, needProbe(snap, changes, items, hints))
	if err != nil {
		return nil, evidence{}, nil, nil, err
	}
	found := map[objKey]bool{}
	for _, p := range sortedPaths(probes) {
		it := probes[p].found
		if it == nil || found[keyOf(it.kind, it.obj.ID)] {
			continue
		}
		found[keyOf(it.kind, it.obj.ID)] = true
		r.logger.Warn("object missing from NetBox's list but readable by id: kept and written from that read "+
			"(the list was paged while objects were created or deleted)", "fabric", f.Name, "object", it.kind.Name+" "+it.obj.Name,
			"netbox_id", it.obj.ID, "file", p)
		objs, items = append(objs, toRender(it.kind, it.obj)), append(items, *it)
	}
	if len(found) > 0 {
		if changes, invalid, err = Plan(rf, root, objs); err != nil {
			return nil, evidence{}, nil, nil, err
		}
	}
	res.Invalid = invalid
	known, err := r.deleteWebhooks(ctx, f, probes)
	if err != nil {
		return nil, evidence{}, nil, nil, err
	}
	ev := classify(snap, changes, items, hints, known, probes)
	if err := r.guard(f, ev, hints); err != nil {
		return nil, ev, objs, items, err
	}
	if len(ev.removals) > 0 {
		r.logger.Info("files removed on evidence", "fabric", f.Name, "removed", len(ev.removals),
			"without_delete_webhook", ev.unconfirmed(), "files", ev.files, "first", ev.removals[0].path+": "+ev.removals[0].why)
	}
	return changes, ev, objs, items, nil
}

func sortedPaths(m map[string]probed) []string {
	out := make([]string, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
