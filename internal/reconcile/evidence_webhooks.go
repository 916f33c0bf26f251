package reconcile

import (
	"context"
	"fmt"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// DeleteEvidence knows the delete webhooks of a fabric's objects that
// other queue keys carried: the queue's keys are per object, so one run
// holds only its own object's hints, and a bulk delete in NetBox is as many
// runs as objects. *queue.Queue is one (queue.Queue.Deleted).
type DeleteEvidence interface {
	// Deleted returns the fabric's objects ("<object_type>:<id>") a recent
	// delete webhook named.
	Deleted(ctx context.Context, fabric int64) (map[queue.Key]bool, error)
}

// WithDeleteEvidence counts the fabric's recent delete webhooks (from d),
// not only the run's own hints, as evidence: a file whose object answers
// 404 by id and that such a webhook named is removed without counting
// against the mass deletion guard (guard.go). Without it, a bulk delete of
// most of a fabric's objects is refused on every key's run.
func WithDeleteEvidence(d DeleteEvidence) Option { return func(r *Reconciler) { r.deletes = d } }

// deleteWebhooks are the fabric's recorded delete webhooks, read only when
// a probe answered 404 (nil without WithDeleteEvidence). The read by id
// stays: a recorded delete confirms a 404, it never removes a file whose
// object NetBox still serves.
func (r *Reconciler) deleteWebhooks(ctx context.Context, f netbox.Fabric, probes map[string]probed) (map[queue.Key]bool, error) {
	if r.deletes == nil {
		return nil, nil
	}
	gone := false
	for _, p := range probes {
		gone = gone || p.gone
	}
	if !gone {
		return nil, nil
	}
	known, err := r.deletes.Deleted(ctx, f.ID)
	if err != nil {
		return nil, fmt.Errorf("reconcile: fabric %s: delete webhooks: %w", f.Name, err)
	}
	return known, nil
}
