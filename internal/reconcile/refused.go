package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
)

// A write-back NetBox refuses because of the data (netbox.Refused: the
// object's or fabric's own data fails NetBox's validation, or a database
// constraint refuses the values) is told once — a journal entry with the
// values and NetBox's answer, a counter — and the same values are not sent
// again: only a change of the values, or a write that lands, starts over.

func objectTarget(k kind.Kind, id int64) string { return fmt.Sprintf("%s/%d", k.Name, id) }

// digestOf names the values of a write-back; timestamps that change on
// every run (last_git_sync) do not count.
func digestOf(fields map[string]any) string {
	stable := make(map[string]any, len(fields))
	for k, v := range fields {
		if k != "last_git_sync" {
			stable[k] = v
		}
	}
	return problems.Digest(stable)
}

// notRefusedBefore drops the patches NetBox already refused with exactly
// these values.
func (w *writer) notRefusedBefore(ctx context.Context, b *wbBatch, k kind.Kind, ps []netbox.Patch) []netbox.Patch {
	if w.r.problems == nil || len(ps) == 0 {
		return ps
	}
	targets := make(map[string]string, len(ps))
	for _, p := range ps {
		targets[objectTarget(k, p.ID)] = digestOf(p.Fields)
	}
	seen, err := w.r.problems.WasRefused(ctx, b.fabric, targets)
	if err != nil {
		w.r.logger.Warn("refused write-backs not read; writing them again", "fabric", b.name, "err", err)
		return ps
	}
	return slices.DeleteFunc(ps, func(p netbox.Patch) bool { return seen[objectTarget(k, p.ID)] })
}

// objectsRefused records the refusals among sent and returns a journal
// entry for each told the first time; when the run had no other error,
// the writes that landed end their earlier refusals.
func (w *writer) objectsRefused(ctx context.Context, b *wbBatch, k kind.Kind, sent []netbox.Patch, refused []netbox.Refusal, clean bool) []netbox.JournalEntry {
	var journal []netbox.JournalEntry
	bad := map[int64]bool{}
	for _, rf := range refused {
		bad[rf.ID] = true
		if !w.firstRefusal(ctx, b, objectTarget(k, rf.ID), rf.Fields, rf.Err) {
			continue
		}
		journal = append(journal, netbox.JournalEntry{Kind: k, ObjectID: rf.ID, Level: netbox.JournalWarning,
			Comments: fmt.Sprintf("hnp-sidecar: NetBox refused to save this object's GitOps status (HTTP %d: %s); not saved: %s. "+
				"The object's own data fails NetBox's checks: fix it in NetBox, then its status is written.",
				rf.Err.Status, rf.Err.Answer(), fieldList(rf.Fields))})
	}
	if w.r.problems != nil && clean && len(refused) < len(sent) {
		var ok []string
		for _, p := range sent {
			if !bad[p.ID] {
				ok = append(ok, objectTarget(k, p.ID))
			}
		}
		if err := w.r.problems.Accepted(ctx, b.fabric, ok...); err != nil {
			w.r.logger.Warn("refused write-backs not cleared", "fabric", b.name, "err", err)
		}
	}
	return journal
}

// firstRefusal records a refusal and logs it; true when these values were
// not refused before (then the user is told).
func (w *writer) firstRefusal(ctx context.Context, b *wbBatch, target string, fields map[string]any, answer *netbox.APIError) bool {
	first := true
	if w.r.problems != nil {
		var err error
		if first, err = w.r.problems.Refused(ctx, b.fabric, target, digestOf(fields)); err != nil {
			w.r.logger.Warn("refused write-back not recorded", "fabric", b.name, "target", target, "err", err)
			first = true
		}
	}
	if first {
		w.r.logger.Warn("NetBox refused a write-back because of the data; told in the journal, not retried with the same values",
			"fabric", b.name, "target", target, "status", answer.Status, "answer", answer.Answer())
	}
	return first
}

// writeFabric writes the fabric's sync fields. What NetBox refuses goes
// into a journal entry on the fabric instead, once per set of values: all
// of them when the refusal is about the fabric's other data (the real
// plugin refuses every PATCH of a fabric whose watch_crd_types is blank,
// which a fabric made in its UI is), or only the values it names (the
// July-2025 plugin's database refuses sync_status in_sync), the rest being
// written again without them.
func (w *writer) writeFabric(ctx context.Context, b *wbBatch) {
	r := w.r
	fields := b.fabricFields
	if len(fields) == 0 {
		return
	}
	if r.problems != nil {
		seen, err := r.problems.WasRefused(ctx, b.fabric, map[string]string{problems.TargetFabric: digestOf(fields)})
		if err == nil && seen[problems.TargetFabric] {
			return
		}
	}
	err := r.wb.PatchFabric(ctx, b.fabric, fields)
	answer := netbox.AsAPIError(err)
	if netbox.Refused(err) {
		if own, rest := splitRefused(fields, answer.RefusedFields()); own != nil && rest != nil {
			if err = r.wb.PatchFabric(ctx, b.fabric, rest); err == nil {
				w.fabricRefused(ctx, b, own, answer)
				return
			}
			answer = netbox.AsAPIError(err)
		}
	}
	switch {
	case err == nil:
		if r.problems != nil {
			if err := r.problems.Accepted(ctx, b.fabric, problems.TargetFabric); err != nil {
				r.logger.Warn("refused write-backs not cleared", "fabric", b.name, "err", err)
			}
		}
	case netbox.Refused(err):
		w.fabricRefused(ctx, b, fields, answer)
	default:
		r.logger.Warn("fabric write-back to NetBox failed; retried by the next reconcile", "fabric", b.name, "err", err)
	}
}

// splitRefused splits fields into those a refusal names and the rest,
// when it names only fields that were sent and not all of them; else nil.
func splitRefused(fields map[string]any, named []string) (own, rest map[string]any) {
	if len(named) == 0 || len(named) >= len(fields) {
		return nil, nil
	}
	own = map[string]any{}
	for _, n := range named {
		v, ok := fields[n]
		if !ok {
			return nil, nil // about the fabric's other data
		}
		own[n] = v
	}
	rest = map[string]any{}
	for k, v := range fields {
		if _, ok := own[k]; !ok {
			rest[k] = v
		}
	}
	return own, rest
}

// fabricRefused tells, once per set of values, the fabric's status that
// NetBox would not store, in a journal entry on the fabric.
func (w *writer) fabricRefused(ctx context.Context, b *wbBatch, fields map[string]any, answer *netbox.APIError) {
	if !w.firstRefusal(ctx, b, problems.TargetFabric, fields, answer) {
		return
	}
	entry := netbox.JournalEntry{Kind: kind.Fabric, ObjectID: b.fabric, Level: netbox.JournalWarning,
		Comments: fmt.Sprintf("hnp-sidecar: GitOps status of this fabric: %s. (NetBox refused to store it in the fabric's "+
			"fields: HTTP %d: %s.)", fieldList(fields), answer.Status, answer.Answer())}
	if err := w.r.wb.AddJournalEntries(ctx, []netbox.JournalEntry{entry}); err != nil {
		w.r.logger.Warn("journal entries not written to NetBox", "fabric", b.name, "entries", 1, "err", err)
	}
}

// fieldList is "a=1, b=x" in name order.
func fieldList(fields map[string]any) string {
	parts := make([]string, 0, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, fields[k]))
	}
	return strings.Join(parts, ", ")
}
