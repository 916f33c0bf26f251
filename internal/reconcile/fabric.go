package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/panics"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/render"
)

// FabricResult is what a full reconcile of one fabric did.
type FabricResult struct {
	Fabric  string
	Target  Target
	Objects int
	// Invalid objects were not written (their last valid file, if any,
	// stays); each has its reasons.
	Invalid map[render.ObjectRef][]error
	Commit  string
	// Committed is false when Git already matched NetBox.
	Committed bool
}

// SyncFabric makes the fabric's managed/ directory in Git equal to what
// NetBox holds now: every valid object rendered, files of objects no
// longer in NetBox removed, one commit (none when nothing changed).
func (r *Reconciler) SyncFabric(ctx context.Context, fabricID int64) (FabricResult, error) {
	return r.Sync(ctx, fabricID, nil)
}

// Sync is SyncFabric on behalf of the hints that asked for it: they name
// the commit's author and its NetBox trailers.
func (r *Reconciler) Sync(ctx context.Context, fabricID int64, hints []queue.Hint) (FabricResult, error) {
	return r.SyncWithProgress(ctx, fabricID, hints, nil)
}

// Progress is how far a run is: Done of Total steps (one per kind read
// from NetBox, then validating and rendering, then the push), the phase,
// and the objects read so far.
type Progress struct {
	Phase       string
	Done, Total int
	Objects     int
}

// Phases of a run.
const (
	PhaseReading   = "reading NetBox"
	PhaseRendering = "validating and rendering"
	PhasePushing   = "committing and pushing"
)

// SyncWithProgress is Sync that reports its progress to report (may be nil).
// ErrFabricGone means NetBox has no such fabric; a *ConfigError means the
// fabric cannot be synced as configured: the reason is then on its objects,
// its journal and in health (see problem.go).
func (r *Reconciler) SyncWithProgress(ctx context.Context, fabricID int64, hints []queue.Hint, report func(Progress)) (res FabricResult, err error) {
	defer func() { r.countRun(res, err) }()
	if report == nil {
		report = func(Progress) {}
	}
	for attempt := 1; ; attempt++ {
		res, err = r.syncOnce(ctx, fabricID, hints, report)
		if !errors.Is(err, gitops.ErrMoved) || attempt == movedAttempts {
			return res, err
		}
		if r.moved != nil {
			r.moved.Inc()
		}
		r.logger.Info("another writer changed the fabric in Git after this run began reading NetBox; reading again",
			"fabric", res.Fabric, "attempt", attempt, "err", err)
	}
}

// movedAttempts bounds the runs of one Sync when another writer keeps
// changing the fabric's files (gitops.ErrMoved); the last one's ErrMoved
// is returned, and the queue retries later.
const movedAttempts = 3

// syncOnce is one run: Git's snapshot of the fabric, then NetBox, then a
// push that refuses a branch another writer moved in the fabric's
// directories since the snapshot. Invariant: each commit pushed into a
// fabric's directory was planned from a NetBox read that began after its
// parent commit in that directory was visible, so the directory's commits
// are monotonic in NetBox time: an older view never lands on a newer one.
func (r *Reconciler) syncOnce(ctx context.Context, fabricID int64, raw []queue.Hint, report func(Progress)) (res FabricResult, err error) {
	hints := fromNetBox(raw)
	f, err := r.nb.GetFabric(ctx, fabricID)
	if errors.Is(err, netbox.ErrNotFound) {
		return FabricResult{}, fmt.Errorf("%w: fabric %d", ErrFabricGone, fabricID)
	}
	if err != nil {
		return FabricResult{}, fmt.Errorf("reconcile: fabric %d: %w", fabricID, err)
	}
	res = FabricResult{Fabric: f.Name, Invalid: map[render.ObjectRef][]error{}}
	var cfgErr error
	if res.Target, err = r.target(ctx, f); errors.Is(err, ErrFabricConfig) {
		cfgErr = err // the objects are still read: the reason goes on each
	} else if err != nil {
		return res, err
	}
	if cfgErr == nil {
		if err := r.overlap(ctx, f, res.Target); errors.Is(err, ErrFabricConfig) {
			cfgErr = err
		} else if err != nil {
			return res, err
		}
	}
	var snap snapshot
	if cfgErr == nil {
		if snap, err = r.snapshot(ctx, f, res.Target); errors.Is(err, ErrFabricConfig) {
			cfgErr = err
		} else if err != nil {
			return res, err
		}
	}
	objs, items, err := r.read(ctx, f, report)
	if err != nil {
		if cfgErr == nil && !errors.Is(err, ErrFabricConfig) {
			return res, err
		}
		objs, items = nil, nil // the reason goes on the fabric only
		cfgErr = cmp.Or(cfgErr, err)
	}
	if cfgErr != nil {
		res.Objects = len(objs)
		return res, r.configProblem(ctx, f, objs, items, cfgErr)
	}
	p := Progress{Phase: PhaseRendering, Done: len(kind.CRs()), Total: len(kind.CRs()) + 2, Objects: len(objs)}
	report(p)
	rf := render.Fabric{ID: f.ID, Name: f.Name}
	changes, ev, objs, items, err := r.planWithEvidence(ctx, f, res.Target.Root, snap, objs, items, raw, &res)
	if errors.Is(err, ErrFabricConfig) {
		return res, r.configProblem(ctx, f, nil, nil, err) // see guard.go: the fabric only
	}
	if err != nil {
		return res, err
	}
	res.Objects = len(objs)
	files := make(map[string][]byte, len(changes))
	for _, c := range changes {
		files[c.Path] = c.Content
	}
	t := r.track(ctx, rf, res.Target.Root, objs, res.Invalid, files)
	t.noteChanges(hints)
	t.noteWaiting(ctx)
	p.Phase, p.Done = PhasePushing, p.Done+1
	report(p)
	out, err := r.git.Apply(ctx, gitops.Batch{
		URL: res.Target.URL, Branch: res.Target.Branch, Changes: append(changes, ev.changes()...),
		Message: message(f.Name, len(objs)-len(res.Invalid), hints), Author: author(hints),
		Since: snap.since(), Owned: snap.owned, Fence: fenceFrom(ctx),
	})
	switch {
	case errors.Is(err, gitops.ErrMoved):
		// read again (or, after the last run, the queue retries): nothing
		// recorded or written back for a view that is already old
		return res, err
	case errors.Is(err, gitops.ErrFenced):
		// the fabric's lease moved to another replica: this one records
		// and writes back nothing more; the new holder's run covers it
		return res, fmt.Errorf("reconcile: fabric %s: %w", f.Name, err)
	}
	if ce := gitDataError(f, res.Target, err); ce != nil {
		return res, r.configProblem(ctx, f, objs, items, ce) // the fabric's data, not an outage
	}
	if err != nil {
		err = fmt.Errorf("reconcile: fabric %s: %w", f.Name, err)
	}
	t.after(ctx, out, err)
	if ferr := stillWriter(ctx); ferr != nil {
		return res, fmt.Errorf("reconcile: fabric %s: not written back: %w", f.Name, ferr)
	}
	r.writeBack(ctx, f, outcome{target: res.Target, items: items, t: t, out: out, pushErr: err, invalid: len(res.Invalid),
		journal: r.resolved(ctx, f, out, err)})
	if err != nil {
		return res, err
	}
	r.saveSnapshot(ctx, f, res.Target, items, out.Commit)
	res.Commit, res.Committed = out.Commit, out.Committed
	r.deploy(f, res.Target, out.Commit)
	for ref, errs := range res.Invalid {
		r.logger.Warn("object not written: invalid", "fabric", f.Name, "object", ref.String(), "netbox_id", ref.ID, "reasons", fmt.Sprint(errs))
	}
	r.logger.Info("fabric reconciled", "fabric", f.Name, "mode", "full", "objects", res.Objects, "invalid", len(res.Invalid),
		"removed", len(ev.removals), "commit", res.Commit, "committed", res.Committed)
	return res, nil
}

// read lists the fabric's objects of every kind. A kind NetBox refuses to
// list to the sidecar's user (403, say) is a *ConfigError.
func (r *Reconciler) read(ctx context.Context, f netbox.Fabric, report func(Progress)) ([]render.Object, []listed, error) {
	var objs []render.Object
	var items []listed
	kinds := kind.CRs()
	p := Progress{Phase: PhaseReading, Total: len(kinds) + 2}
	report(p)
	for _, k := range kinds {
		list, err := r.nb.ListObjects(ctx, k, f.ID)
		if ae := netbox.AsAPIError(err); netbox.Refused(err) {
			return nil, nil, configError(f, err, "the sidecar's NetBox user cannot list %s objects: HTTP %d: %s", k.Name, ae.Status, ae.Answer())
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reconcile: fabric %s: list %s: %w", f.Name, k.Name, err)
		}
		for _, o := range list {
			objs = append(objs, toRender(k, o))
			items = append(items, listed{kind: k, obj: o})
		}
		p.Done, p.Objects = p.Done+1, len(objs)
		report(p)
	}
	return objs, items, nil
}

// validSet validates every object against the others and drops invalid
// ones until none is left to drop: an attachment to a VPC that is itself
// invalid is invalid too, since that VPC will not be in Git. The first
// pass, which only reads the set, runs on every CPU; the fixpoint loop
// runs only when something was invalid.
func validSet(objs []render.Object, invalid map[render.ObjectRef][]error) (*render.Set, error) {
	set := render.NewSet(objs...)
	first := make([][]error, len(objs))
	if err := parallel(len(objs), func(i int) { first[i] = render.Validate(objs[i], set) }); err != nil {
		return nil, err
	}
	changed := false
	for i, errs := range first {
		if len(errs) > 0 {
			invalid[objs[i].Ref()] = errs
			set.Remove(objs[i].Kind, objs[i].Name)
			changed = true
		}
	}
	for changed {
		changed = false
		for _, o := range objs {
			if _, bad := invalid[o.Ref()]; bad {
				continue
			}
			if errs := render.Validate(o, set); len(errs) > 0 {
				invalid[o.Ref()] = errs
				set.Remove(o.Kind, o.Name)
				changed = true
			}
		}
	}
	return set, nil
}

// parallel runs fn(0..n-1) on every CPU. A panic in fn (a bad object) is
// returned as a *panics.Error: the queue worker that runs the reconcile
// records it and the run fails like any other.
func parallel(n int, fn func(i int)) error {
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			defer panics.Capture("reconcile.parallel", &errs[w])
			for i := w; i < n; i += workers {
				fn(i)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Plan validates a fabric's objects and renders the valid ones and the
// manifest into the files of its directory; invalid objects keep whatever
// file they had and are returned with their reasons. Rendering, the bulk
// of the work, runs on every CPU.
func Plan(f render.Fabric, root string, objs []render.Object) ([]gitops.Change, map[render.ObjectRef][]error, error) {
	invalid := map[render.ObjectRef][]error{}
	valid, err := validSet(objs, invalid)
	if err != nil {
		return nil, nil, fmt.Errorf("reconcile: validate: %w", err)
	}
	changes := make([]gitops.Change, len(objs))
	errs := make([]error, len(objs))
	err = parallel(len(objs), func(i int) { changes[i], errs[i] = planOne(f, root, objs[i], valid) })
	if err := errors.Join(append(errs, err)...); err != nil {
		return nil, nil, err
	}
	out := changes[:0]
	for _, c := range changes {
		if c.Path != "" {
			out = append(out, c)
		}
	}
	mp, err := render.ManifestPath(root)
	if err != nil {
		return nil, nil, fmt.Errorf("reconcile: %w", err)
	}
	out = append(out, gitops.Change{Path: mp, Content: render.Manifest(f)})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, invalid, nil
}

// planOne is one object's file: rendered when valid, kept when not, none
// for a name that cannot be a path (reported as invalid, never a path).
func planOne(f render.Fabric, root string, o render.Object, valid *render.Set) (gitops.Change, error) {
	p, err := render.Path(root, o)
	if err != nil {
		return gitops.Change{}, nil
	}
	if _, ok := valid.Get(o.Kind, o.Name); !ok {
		return gitops.Change{Path: p, Keep: true}, nil
	}
	b, err := render.Render(f, o)
	if err != nil {
		return gitops.Change{}, fmt.Errorf("reconcile: render %s: %w", o.Ref(), err)
	}
	return gitops.Change{Path: p, Content: b}, nil
}

func toRender(k kind.Kind, o netbox.Object) render.Object {
	return render.Object{Kind: k, ID: o.ID, Name: o.Name, Namespace: o.Namespace,
		Spec: o.Spec, Labels: o.Labels, Annotations: o.Annotations}
}

// Reasons flattens a result's problems for logs and APIs.
func (res FabricResult) Reasons() []string {
	var out []string
	for _, errs := range res.Invalid {
		for _, e := range errs {
			out = append(out, e.Error())
		}
	}
	sort.Strings(out)
	return out
}

// fromNetBox drops the hints the sidecar made itself (resync): they name
// no change, user or request.
func fromNetBox(hints []queue.Hint) []queue.Hint {
	var out []queue.Hint
	for _, h := range hints {
		if h.Event != EventResync && !strings.HasPrefix(h.RequestID, JobPrefix) {
			out = append(out, h)
		}
	}
	return out
}
