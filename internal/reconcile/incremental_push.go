package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/render"
)

// pushObject records the object's state, pushes its file's change on the
// snapshot's tip (refused when another writer changed the fabric's files
// since), writes the outcome back to NetBox and moves the snapshot to
// the new commit.
func (r *Reconciler) pushObject(ctx context.Context, f netbox.Fabric, snap *known.Fabric, p objectPlan, field string,
	put *known.Entry, items []listed, raw []queue.Hint, res FabricResult) (FabricResult, error) {
	root := res.Target.Root
	owned, err := ownedDirs(root)
	if err != nil {
		return res, fmt.Errorf("reconcile: fabric %s: %w", f.Name, err)
	}
	files := make(map[string][]byte, len(p.changes))
	for _, c := range p.changes {
		files[c.Path] = c.Content
	}
	rf := render.Fabric{ID: f.ID, Name: f.Name}
	t := r.trackScope(ctx, rf, root, p.tracked, p.invalid, files, p.scope)
	hints := fromNetBox(raw)
	t.noteChanges(hints)
	out, err := r.git.Apply(ctx, gitops.Batch{
		URL: res.Target.URL, Branch: res.Target.Branch, Changes: p.changes,
		Message: message(f.Name, p.objects-len(p.invalid), hints), Author: author(hints),
		Since: snap.Tip, Owned: owned, Fence: fenceFrom(ctx),
	})
	switch {
	case errors.Is(err, gitops.ErrMoved):
		return res, needFull(FullGitMoved)
	case errors.Is(err, gitops.ErrFenced):
		return res, fmt.Errorf("reconcile: fabric %s: %w", f.Name, err)
	case gitDataError(f, res.Target, err) != nil:
		return res, needFull(FullRefused) // the full run shows it on the fabric
	}
	if err != nil {
		err = fmt.Errorf("reconcile: fabric %s: %w", f.Name, err)
	}
	t.after(ctx, out, err)
	if ferr := stillWriter(ctx); ferr != nil {
		return res, fmt.Errorf("reconcile: fabric %s: not written back: %w", f.Name, ferr)
	}
	r.writeBack(ctx, f, outcome{target: res.Target, items: items, t: t, out: out, pushErr: err,
		invalid: len(p.invalid), journal: r.resolved(ctx, f, out, err)})
	if err != nil {
		return res, err
	}
	del := ""
	if put == nil {
		del = field
	}
	if serr := r.snaps.Update(ctx, f.ID, snapFence(ctx, f.ID), snap, out.Commit, put, del, p.after); serr != nil {
		r.logger.Warn("fabric snapshot not moved to the commit; its next reconcile is a full one", "fabric", f.Name, "err", serr)
		if !errors.Is(serr, known.ErrFenced) {
			r.dropSnapshot(ctx, f.ID)
		}
	}
	res.Commit, res.Committed = out.Commit, out.Committed
	r.deploy(f, res.Target, out.Commit)
	for _, o := range p.tracked {
		if errs, bad := p.invalid[o.Ref()]; bad {
			r.logger.Warn("object not written: invalid", "fabric", f.Name, "object", o.Ref().String(), "netbox_id", o.ID, "reasons", fmt.Sprint(errs))
		}
	}
	r.logger.Info("fabric reconciled", "fabric", f.Name, "mode", "incremental", "object", field,
		"objects", res.Objects, "invalid", len(res.Invalid), "commit", res.Commit, "committed", res.Committed)
	return res, nil
}
