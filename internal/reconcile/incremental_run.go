package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/render"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// SyncObject is an incremental run for one object's hints: the fabric and
// its repository are read (for their configuration), the object by its id
// (a 404 is the evidence of its deletion), and the rest comes from the
// fabric's snapshot. Only the object's file changes, in a commit on the
// snapshot's tip. When that may not be the tree a full reconcile would
// make, nothing is pushed and a *NeedFullError says why.
func (r *Reconciler) SyncObject(ctx context.Context, fabricID int64, k kind.Kind, id int64, raw []queue.Hint) (res FabricResult, err error) {
	defer func() { r.countIncremental(res, err) }()
	if r.snaps == nil || k.IsFabric() {
		return res, needFull(FullNoSnapshot)
	}
	f, err := r.nb.GetFabric(ctx, fabricID)
	if errors.Is(err, netbox.ErrNotFound) {
		return res, fmt.Errorf("%w: fabric %d", ErrFabricGone, fabricID)
	}
	if err != nil {
		return res, fmt.Errorf("reconcile: fabric %d: %w", fabricID, err)
	}
	res = FabricResult{Fabric: f.Name, Invalid: map[render.ObjectRef][]error{}}
	if res.Target, err = r.target(ctx, f); errors.Is(err, ErrFabricConfig) {
		return res, needFull(FullConfig) // the full run shows it
	} else if err != nil {
		return res, err
	}
	snap, ok, err := r.snaps.Load(ctx, f.ID)
	switch {
	case err != nil:
		return res, fmt.Errorf("reconcile: fabric %s: %w", f.Name, err)
	case !ok:
		return res, needFull(FullNoSnapshot)
	case snap.Fingerprint != fingerprint(f, res.Target):
		return res, needFull(FullConfig)
	case snap.Tip == "":
		return res, needFull(FullNoSnapshot) // no commit to check Git against
	}
	o, err := r.nb.GetObject(ctx, k, id)
	gone := errors.Is(err, netbox.ErrNotFound)
	switch {
	case gone:
	case netbox.Refused(err):
		return res, needFull(FullRefused)
	case err != nil:
		return res, fmt.Errorf("reconcile: fabric %s: read %s %d: %w", f.Name, k.Name, id, err)
	case int64(o.Fabric) != f.ID:
		return res, needFull(FullOtherFabric)
	}
	field := known.Field(k.Name, id)
	old, had := snap.Entries[field]
	if gone && !had {
		return res, needFull(FullUnknown)
	}
	var put *known.Entry
	if !gone {
		e := entryOf(k, o)
		put = &e
	}
	p, err := r.planObject(f, res.Target.Root, snap, old, had, put)
	if err != nil {
		return res, err
	}
	res.Objects, res.Invalid = p.objects, p.invalid
	var items []listed
	if put != nil {
		items = []listed{{kind: k, obj: o}}
	}
	return r.pushObject(ctx, f, snap, p, field, put, items, raw, res)
}

// objectPlan is what an incremental run changes: the fabric's objects'
// validity after the change, the one file's change (if any) and the
// object as tracked (none when deleted).
type objectPlan struct {
	objects int
	invalid map[render.ObjectRef][]error
	changes []gitops.Change
	tracked []render.Object
	scope   map[string]bool // the state records the run may touch
	// after is the objects' validity after the change: the next
	// generation's (validityOf).
	after *validState
}

// planObject validates the object changed (put, or deleted when nil)
// with the fabric's others and plans its file; it refuses
// (*NeedFullError) when anything beyond that object's file and record
// would change.
func (r *Reconciler) planObject(f netbox.Fabric, root string, snap *known.Fabric, old known.Entry, had bool,
	put *known.Entry) (objectPlan, error) {
	p := objectPlan{scope: map[string]bool{}, objects: len(snap.Entries)}
	v, err := validityOf(snap, root)
	if err != nil {
		return p, fmt.Errorf("reconcile: validate: %w", err)
	}
	var oldObj, newObj *render.Object
	var oldPath, newPath string
	if had {
		o, _ := objectOf(old)
		oldObj = &o
		oldPath, _ = render.Path(root, o)
		p.scope[recordField(o)] = true
		if v.names[nameOf(o)] > 1 || (oldPath != "" && v.paths[oldPath] > 1) {
			return p, needFull(FullRenamed) // shares its name or file with another object
		}
	}
	if put != nil {
		o, ok := objectOf(*put)
		if !ok {
			return p, needFull(FullUnknown)
		}
		newObj = &o
		newPath, _ = render.Path(root, o)
		switch {
		case had && (put.Name != old.Name || put.Namespace != old.Namespace):
			return p, needFull(FullRenamed)
		case !had && (v.names[nameOf(o)] > 0 || (newPath != "" && v.paths[newPath] > 0)):
			return p, needFull(FullRenamed) // another object's name or file
		}
		p.tracked = []render.Object{o}
		p.scope[recordField(o)] = true
		if !had {
			p.objects++
		}
	} else {
		p.objects--
	}
	others := func(ref render.ObjectRef) (render.Object, bool) {
		e, ok := snap.Entries[known.Field(ref.Kind.Name, ref.ID)]
		if !ok {
			return render.Object{}, false
		}
		return objectOf(e)
	}
	n, errs, err := v.change(oldObj, newObj, oldPath, newPath, others)
	if err != nil {
		return p, err
	}
	p.after = n
	p.invalid = make(map[render.ObjectRef][]error, len(n.reasons))
	for ref, why := range n.reasons {
		p.invalid[ref] = []error{errors.New(why)}
	}
	if newObj != nil && len(errs) > 0 {
		p.invalid[newObj.Ref()] = errs
	}
	switch {
	case put == nil && oldPath != "":
		p.changes = []gitops.Change{{Path: oldPath}} // deleted in NetBox (its 404)
	case put != nil:
		c, err := planOne(render.Fabric{ID: f.ID, Name: f.Name}, root, *newObj, n.valid)
		if err != nil {
			return p, err
		}
		if c.Path != "" && !c.Keep {
			p.changes = []gitops.Change{c}
		}
	}
	return p, nil
}

// recordField is the object's state record's name in its fabric.
func recordField(o render.Object) string {
	k := recordKey(0, o)
	return state.Field(k.Kind, k.Namespace, k.Name)
}
