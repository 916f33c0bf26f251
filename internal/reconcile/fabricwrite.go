package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
)

// writeFabric writes the fabric's sync fields, minus what NetBox refused
// before (refused.go). What NetBox refuses now goes into a journal entry
// on the fabric instead, once: all of it when the refusal is about the
// fabric's other data, or the values it names, the rest being written at
// once without them.
func (w *writer) writeFabric(ctx context.Context, b *wbBatch) {
	r := w.r
	fields, landing := b.fabricFields, false
	if len(fields) == 0 {
		return
	}
	if r.problems != nil {
		recs, err := r.problems.Refusals(ctx, b.fabric, []string{problems.TargetFabric})
		if err != nil {
			r.logger.Warn("refused write-backs not read; writing them again", "fabric", b.name, "err", err)
		}
		rec, has := recs[problems.TargetFabric]
		if fields, landing = sendable(rec, has, fields, b.fabricUpdated, time.Now()); fields == nil {
			return
		}
	}
	err := r.wb.PatchFabric(ctx, b.fabric, fields)
	switch {
	case err == nil:
		if landing {
			w.accepted(ctx, b, problems.TargetFabric)
		}
	case netbox.Refused(err):
		answer := netbox.AsAPIError(err)
		rest, told, _, first := w.refusal(ctx, b, problems.TargetFabric, fields, b.fabricUpdated, answer)
		if len(rest) > 0 {
			if err := r.wb.PatchFabric(ctx, b.fabric, rest); err != nil {
				r.logger.Warn("fabric write-back to NetBox failed; retried by the next reconcile", "fabric", b.name, "err", err)
			}
		}
		if first {
			w.journal(ctx, b, []netbox.JournalEntry{{Kind: kind.Fabric, ObjectID: b.fabric, Level: netbox.JournalWarning,
				Comments: fmt.Sprintf("hnp-sidecar: GitOps status of this fabric: %s. (NetBox refused to store it in the fabric's "+
					"fields: HTTP %d: %s.)", fieldList(told), answer.Status, answer.Answer())}})
		}
	default:
		r.logger.Warn("fabric write-back to NetBox failed; retried by the next reconcile", "fabric", b.name, "err", err)
		b.failed = true
	}
}

// journal writes entries in bulk requests. When one fails, what the batch
// recorded as told so far is undone, so it is told again by a later write.
func (w *writer) journal(ctx context.Context, b *wbBatch, entries []netbox.JournalEntry) {
	failed := false
	for j := entries; len(j) > 0; {
		n := min(len(j), writeBackChunk)
		if err := w.r.wb.AddJournalEntries(ctx, j[:n]); err != nil {
			w.r.logger.Warn("journal entries not written to NetBox; told again later", "fabric", b.name, "entries", n, "err", err)
			failed = true
		}
		j = j[n:]
	}
	if failed {
		for _, undo := range b.undo {
			undo(context.WithoutCancel(ctx))
		}
		b.failed = true
	}
	b.undo = nil
}
