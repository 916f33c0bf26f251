package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/render"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// Snapshots keep each fabric's last-known objects and the commit their
// files are at (internal/snapshot): a full run replaces them, an
// incremental run changes one object.
type Snapshots interface {
	Load(ctx context.Context, fabric int64) (*known.Fabric, bool, error)
	Replace(ctx context.Context, fabric int64, fence *known.Fence, fingerprint, tip string, entries []known.Entry) error
	Update(ctx context.Context, fabric int64, fence *known.Fence, f *known.Fabric, tip string, put *known.Entry, del string, derived any) error
	Drop(ctx context.Context, fabric int64, fence *known.Fence) error
	Forget(ctx context.Context, fabric int64) error
}

// WithSnapshots makes single-object hints incremental runs (SyncObject)
// from the fabric's snapshot, which every full run replaces.
func WithSnapshots(s Snapshots) Option { return func(r *Reconciler) { r.snaps = s } }

// ErrNeedFull: an incremental run cannot be sure to give the tree a full
// reconcile would (no snapshot, the fabric's configuration changed, a
// rename, another object's validity changes, Git moved…): nothing was
// pushed; the caller runs a full reconcile. errors.As a *NeedFullError
// for the reason.
var ErrNeedFull = errors.New("reconcile: a full reconcile is needed")

// NeedFullError says why a run must be a full one; Reason is a label of
// hnp_reconcile_full_fallbacks_total.
type NeedFullError struct{ Reason string }

func (e *NeedFullError) Error() string { return "reconcile: a full reconcile is needed: " + e.Reason }

// Unwrap makes it match ErrNeedFull.
func (e *NeedFullError) Unwrap() error { return ErrNeedFull }

// Reasons for a full run instead of an incremental one.
const (
	FullNoSnapshot   = "no_snapshot"
	FullConfig       = "fabric_changed" // the fabric's configuration, or a problem with it
	FullRefused      = "refused"        // NetBox refused the object's read, or Git the fabric's data
	FullOtherFabric  = "other_fabric"   // the object is (now) in another fabric
	FullRenamed      = "renamed"        // its file's path changes, or is another object's
	FullDependents   = "dependents"     // another object's validity changes with it
	FullGitMoved     = "git_moved"      // the fabric's files changed since the snapshot
	FullUnknown      = "unknown_object" // deleted, and not in the snapshot
	FullSnapshotLost = "snapshot_stale" // another run wrote the snapshot meanwhile
)

func needFull(reason string) error { return &NeedFullError{Reason: reason} }

// fingerprint is what of the fabric's configuration the snapshot's files
// were rendered with: the fabric as read minus the fields the sidecar
// writes back (and minus nothing secret in clear: it is hashed), and its
// Git target. Any other change makes the next run a full one.
func fingerprint(f netbox.Fabric, t Target) string {
	f.LastUpdated, f.DesiredStateCommit, f.SyncStatus, f.LastGitSync = "", "", "", ""
	f.DriftStatus, f.DriftCount, f.ArgocdHealthStatus = "", 0, ""
	b, _ := json.Marshal(struct {
		F netbox.Fabric
		T Target
	}{f, t})
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func entryOf(k kind.Kind, o netbox.Object) known.Entry {
	return known.Entry{Kind: k.Name, ID: o.ID, Name: o.Name, Namespace: o.Namespace, Spec: o.Spec,
		Labels: o.Labels, Annotations: o.Annotations, LastUpdated: o.LastUpdated}
}

func objectOf(e known.Entry) (render.Object, bool) {
	k, ok := kind.Named(e.Kind)
	if !ok || k.IsFabric() {
		return render.Object{}, false
	}
	return render.Object{Kind: k, ID: e.ID, Name: e.Name, Namespace: e.Namespace, Spec: e.Spec,
		Labels: e.Labels, Annotations: e.Annotations}, true
}

// saveSnapshot replaces the fabric's snapshot after a full run whose push
// succeeded: objs (with items, as read) match Git at commit.
func (r *Reconciler) saveSnapshot(ctx context.Context, f netbox.Fabric, t Target, items []listed, commit string) {
	if r.snaps == nil {
		return
	}
	entries := make([]known.Entry, len(items))
	for i, it := range items {
		entries[i] = entryOf(it.kind, it.obj)
	}
	err := r.snaps.Replace(ctx, f.ID, snapFence(ctx, f.ID), fingerprint(f, t), commit, entries)
	switch {
	case errors.Is(err, known.ErrFenced):
		// the lease moved: the snapshot is the new holder's
	case err != nil:
		r.logger.Warn("fabric snapshot not saved; its next reconcile is a full one", "fabric", f.Name, "err", err)
		r.dropSnapshot(ctx, f.ID)
	}
}

// dropSnapshot makes the fabric's next run a full one (a problem is
// shown, a run failed in a way the snapshot cannot follow).
func (r *Reconciler) dropSnapshot(ctx context.Context, fabric int64) {
	if r.snaps == nil {
		return
	}
	err := r.snaps.Drop(context.WithoutCancel(ctx), fabric, snapFence(ctx, fabric))
	if err != nil && !errors.Is(err, known.ErrFenced) {
		r.logger.Warn("fabric snapshot not dropped", "fabric_id", fabric, "err", err)
	}
}

func reasons(invalid map[render.ObjectRef][]error) map[render.ObjectRef]string {
	out := make(map[render.ObjectRef]string, len(invalid))
	for ref, errs := range invalid {
		out[ref] = joinReasons(errs)
	}
	return out
}

// ownedDirs are the fabric's directories a run writes (gitops.Batch.Owned).
func ownedDirs(root string) ([]string, error) {
	managed, err := render.ManagedDir(root)
	if err != nil {
		return nil, err
	}
	mp, err := render.ManifestPath(root)
	if err != nil {
		return nil, err
	}
	return []string{managed, path.Dir(mp)}, nil
}

// snapFence is the fabric's lease (state.WithFence in ctx) as the
// snapshot's writes check it; nil when the run holds none.
func snapFence(ctx context.Context, fabric int64) *known.Fence {
	f, ok := state.FenceOf(ctx, fabric)
	if !ok {
		return nil
	}
	return &known.Fence{Key: f.Key, Value: f.Value}
}
