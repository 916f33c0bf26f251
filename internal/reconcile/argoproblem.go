package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// argoReason starts the reason of every Argo CD problem of a fabric: a
// successful push does not end it (the commit reaching Git is not what
// was wrong), only a fabric whose Application is accepted does.
const argoReason = "Argo CD"

// argoProblemTimeout bounds telling an Argo CD problem found after a push.
const argoProblemTimeout = 30 * time.Second

// argoProblem shows why a fabric's pushed commit does not reach Argo CD:
// logged, in health, and once per reason as a journal entry on the fabric.
func (r *Reconciler) argoProblem(ctx context.Context, f netbox.Fabric, err error) {
	reason := reasonOf(err)
	r.logger.Error("fabric's commit is in Git but not handed to Argo CD; fix it in NetBox or in Argo CD",
		"fabric", f.Name, "fabric_id", f.ID, "reason", reason)
	first := r.recordProblem(ctx, f, reason)
	if !first {
		return
	}
	r.tellFabric(ctx, f, netbox.JournalEntry{Kind: kind.Fabric, ObjectID: f.ID, Level: netbox.JournalDanger,
		Comments: fmt.Sprintf("hnp-sidecar: the fabric's commits reach Git but not the cluster: %s. The sidecar tries again "+
			"on the fabric's next change, at its periodic reconcile and on `hnp-sidecar resync`.", reason)},
		func(ctx context.Context) { _, _ = r.problems.Clear(ctx, f.ID) })
}

// argoResolved ends a fabric's Argo CD problem once its Application was
// accepted, and tells the user.
func (r *Reconciler) argoResolved(ctx context.Context, f netbox.Fabric) {
	if !r.argoProblemStays(ctx, f.ID) {
		return
	}
	if had, err := r.problems.Clear(ctx, f.ID); err != nil || !had {
		return
	}
	r.logger.Info("fabric's Application is accepted again; its Argo CD problem is resolved", "fabric", f.Name)
	r.tellFabric(ctx, f, netbox.JournalEntry{Kind: kind.Fabric, ObjectID: f.ID, Level: netbox.JournalSuccess,
		Comments: "hnp-sidecar: the fabric's Application is set up in Argo CD again; the earlier problem is resolved."}, nil)
}

// argoProblemStays reports whether fabric's recorded problem is an Argo
// CD one, which a successful push does not end.
func (r *Reconciler) argoProblemStays(ctx context.Context, fabric int64) bool {
	is, _ := r.problemIs(ctx, fabric, argoReason+":")
	return is
}

// tellFabric writes one journal entry on the fabric; undo (may be nil)
// runs when it could not be written.
func (r *Reconciler) tellFabric(ctx context.Context, f netbox.Fabric, e netbox.JournalEntry, undo func(context.Context)) {
	if r.wb == nil {
		return
	}
	b := &wbBatch{fabric: f.ID, name: f.Name, patches: map[patchKey]map[string]any{}, lastUpdated: map[patchKey]string{},
		fabricFields: map[string]any{}, journal: []netbox.JournalEntry{e}, fabricUpdated: f.LastUpdated}
	if undo != nil && r.problems != nil {
		b.undo = append(b.undo, undo)
	}
	if !r.writer.submit(b) {
		r.writer.write(ctx, b)
	}
}
