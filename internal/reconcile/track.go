package reconcile

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/render"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// States is where the reconciler records each object's GitOps state.
type States interface {
	Load(ctx context.Context, fabric int64) (map[string]state.Record, error)
	Apply(ctx context.Context, changes ...state.Change) []error
}

// tracked is one NetBox object of this run, as the state store sees it.
type tracked struct {
	key    state.Key
	id     int64
	path   string // "" when its name cannot be a path
	hash   string // of the rendered file; "" when invalid
	reason string // why it is not written; "" when valid
	// pushing: its file changes (or reaches Git) with this run's commit.
	pushing bool
}

// tracking moves the fabric's records through one run: before the push
// (draft, orphaned) and after it (committed, removed).
type tracking struct {
	r       *Reconciler
	fabric  int64
	name    string
	objects []*tracked
	// gone: records of objects NetBox no longer has whose file is in Git.
	gone []state.Key
	// changed: when NetBox changed the objects the run's hints name
	// (noteChanges).
	changed map[changed]time.Time
}

func contentHash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:12])
}

// fileIn says whether a record's object has a file in Git.
func fileIn(rec state.Record) bool { return rec.Commit != "" }

// track records what this run found before it pushes. Failures of the
// store are logged, never block Git: Git is the product.
func (r *Reconciler) track(ctx context.Context, f render.Fabric, root string, objs []render.Object,
	invalid map[render.ObjectRef][]error, files map[string][]byte) *tracking {
	return r.trackScope(ctx, f, root, objs, invalid, files, nil)
}

// trackScope is track for the records in scope (by state.Field; nil: the
// whole fabric): an incremental run tracks its one object, and the
// records of the others are left as they are.
func (r *Reconciler) trackScope(ctx context.Context, f render.Fabric, root string, objs []render.Object,
	invalid map[render.ObjectRef][]error, files map[string][]byte, scope map[string]bool) *tracking {
	if r.states == nil {
		return nil
	}
	t := &tracking{r: r, fabric: f.ID, name: f.Name}
	recs, err := r.loadRecords(ctx, f.ID, scope)
	if err != nil {
		r.logger.Error("object states not recorded", "fabric", f.Name, "err", err)
		return nil
	}
	var changes []state.Change
	seen := map[string]bool{}
	for _, o := range objs {
		ob := &tracked{key: recordKey(f.ID, o), id: o.ID}
		ob.path, _ = render.Path(root, o)
		if errs, bad := invalid[o.Ref()]; bad {
			ob.reason = joinReasons(errs)
		} else {
			ob.hash = contentHash(files[ob.path])
		}
		field := state.Field(ob.key.Kind, ob.key.Namespace, ob.key.Name)
		seen[field] = true
		t.objects = append(t.objects, ob)
		rec, has := recs[field]
		if c, ok := ob.before(rec, has, f.Name); ok {
			changes = append(changes, c)
		}
	}
	for field, rec := range recs {
		if seen[field] || (scope != nil && !scope[field]) {
			continue
		}
		// Deleted, renamed or moved away in NetBox.
		switch {
		case rec.State == state.Orphaned && rec.Path == "":
			// Found only in the cluster (drift detection): not Git's to end.
		case rec.State == state.Orphaned:
			t.gone = append(t.gone, rec.Key)
		case fileIn(rec):
			t.gone = append(t.gone, rec.Key)
			changes = append(changes,
				state.Change{Key: rec.Key, End: true, Trigger: state.DeletedInNetBox, Expect: rec.State},
				state.Change{Key: rec.Key, To: state.Orphaned, Expect: state.None, NetBoxID: rec.NetBoxID, FabricName: f.Name,
					Path: rec.Path, Commit: rec.Commit, Reason: "deleted in NetBox; its file is removed by the next commit"})
		default:
			changes = append(changes, state.Change{Key: rec.Key, End: true, Trigger: state.DeletedInNetBox, Expect: rec.State,
				Reason: "deleted in NetBox before it reached Git"})
		}
	}
	t.apply(ctx, changes)
	return t
}

// loadRecords reads the fabric's records, only those in scope when it is
// not nil and the store can (state.Store.LoadFields).
func (r *Reconciler) loadRecords(ctx context.Context, fabric int64, scope map[string]bool) (map[string]state.Record, error) {
	lf, ok := r.states.(interface {
		LoadFields(ctx context.Context, fabric int64, fields []string) (map[string]state.Record, error)
	})
	if scope == nil || !ok {
		return r.states.Load(ctx, fabric)
	}
	return lf.LoadFields(ctx, fabric, slices.Collect(maps.Keys(scope)))
}

// recordKey is the key of o's state record in fabric (an empty namespace
// is render.DefaultNamespace).
func recordKey(fabric int64, o render.Object) state.Key {
	return state.Key{Fabric: fabric, Kind: o.Kind.Name, Namespace: cmp.Or(o.Namespace, render.DefaultNamespace), Name: o.Name}
}

// before is the change an object's record needs before the push, if any.
func (ob *tracked) before(rec state.Record, has bool, fabric string) (state.Change, bool) {
	c := state.Change{Key: ob.key, To: state.Draft, Expect: rec.State, Reason: ob.reason, Hash: ob.hash,
		NetBoxID: ob.id, FabricName: fabric}
	if !has {
		c.Expect = state.None
	}
	if ob.reason == "" && ob.path != "" {
		ob.pushing = true
		inGit := has && rec.Hash == ob.hash && rec.State != state.Draft && rec.State != state.Orphaned
		if inGit || (has && rec.State == state.Draft && rec.Hash == ob.hash && rec.Reason == "") {
			ob.pushing = !inGit
			return c, false
		}
	} else if has && rec.State == state.Draft && rec.Reason == ob.reason {
		return c, false
	}
	if has && rec.State == state.Pending {
		// pending has no way back to draft: Argo CD's answer moves it first,
		// and the next reconcile records the edit.
		ob.pushing = false
		return c, false
	}
	return c, true
}

// after records the push's outcome: pushed objects are committed at its
// commit, removed files end their orphaned records. On failure, objects
// waiting for the push keep their draft state with the error as reason.
func (t *tracking) after(ctx context.Context, out gitops.Result, pushErr error) {
	if t == nil {
		return
	}
	var changes []state.Change
	for _, ob := range t.objects {
		switch {
		case !ob.pushing:
		case pushErr != nil:
			changes = append(changes, state.Change{Key: ob.key, To: state.Draft, Expect: state.Draft, Reason: pushFailed(pushErr)})
		default:
			changes = append(changes, state.Change{Key: ob.key, To: state.Committed, Expect: state.Draft, Commit: out.Commit,
				Path: ob.path, Hash: ob.hash, Committed: true, ChangedAt: t.changedAt(ob)})
		}
	}
	if pushErr == nil {
		for _, k := range t.gone {
			changes = append(changes, state.Change{Key: k, End: true, Trigger: state.RemovedFromGit, Expect: state.Orphaned, Commit: out.Commit})
		}
	}
	t.apply(ctx, changes)
}

func (t *tracking) apply(ctx context.Context, changes []state.Change) {
	if len(changes) == 0 {
		return
	}
	for i, err := range t.r.states.Apply(ctx, changes...) {
		switch {
		case err == nil:
		case errors.Is(err, state.ErrConflict):
			t.r.logger.Warn("object state changed meanwhile; the next reconcile records it", "fabric", t.name, "err", err)
		default:
			t.r.logger.Error("object state not recorded", "fabric", t.name, "object", changes[i].Key.String(), "err", err)
		}
	}
}

func joinReasons(errs []error) string {
	s := make([]string, len(errs))
	for i, e := range errs {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

func pushFailed(err error) string { return "not in Git yet: " + err.Error() }
