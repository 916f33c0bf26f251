package reconcile

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/problems"
)

// A write-back NetBox refuses because of the data (netbox.Refused) is
// told once — a journal entry with the values and NetBox's answer, a
// counter — and recorded (problems.Refusal), so that it is not sent again
// as it was:
//   - a refusal of the values themselves (it names only fields that were
//     sent: the July-2025 plugin's CHECK refuses sync_status in_sync) takes
//     those values out of later writes, for problems.ValueRefusalTTL; the
//     other fields are written without them at once;
//   - a refusal because of the target's other data (a fabric made in the
//     plugin's UI refuses every PATCH: its watch_crd_types is blank) stops
//     the same values being sent until the target changes in NetBox (its
//     last_updated), which may have fixed it, or the values change.
// A write that lands ends the record.

func objectTarget(k kind.Kind, id int64) string { return fmt.Sprintf("%s/%d", k.Name, id) }

// stable is fields without the timestamps that change on every run.
func stable(fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		if k != "last_git_sync" {
			out[k] = v
		}
	}
	return out
}

// sendable is what of fields may be sent to a target with the refusal rec
// (has) on record: nil when nothing. landed says which of rec's values a
// successful write of the result would have written.
func sendable(rec problems.Refusal, has bool, fields map[string]any, lastUpdated string, now time.Time) (send map[string]any, landing bool) {
	if !has || rec.Expired(now) {
		return fields, has
	}
	if rec.Whole {
		if rec.LastUpdated == lastUpdated && reflect.DeepEqual(stable(rec.Fields), stable(fields)) {
			return nil, false
		}
		return fields, true
	}
	send = map[string]any{}
	landing = true
	for k, v := range fields {
		if rv, ok := rec.Fields[k]; ok && reflect.DeepEqual(rv, v) {
			landing = false // still refused: left out
			continue
		}
		send[k] = v
	}
	if len(send) == 0 {
		return nil, false
	}
	return send, landing
}

// filter applies the refusals on record to a kind's patches: drops or
// trims them, and returns the targets whose refusal a successful write
// ends.
func (w *writer) filter(ctx context.Context, b *wbBatch, k kind.Kind, ps []netbox.Patch) ([]netbox.Patch, map[int64]bool) {
	if w.r.problems == nil || len(ps) == 0 {
		return ps, nil
	}
	targets := make([]string, len(ps))
	for i, p := range ps {
		targets[i] = objectTarget(k, p.ID)
	}
	recs, err := w.r.problems.Refusals(ctx, b.fabric, targets)
	if err != nil {
		w.r.logger.Warn("refused write-backs not read; writing them again", "fabric", b.name, "err", err)
		return ps, nil
	}
	ending := map[int64]bool{}
	out := ps[:0]
	for i, p := range ps {
		rec, has := recs[targets[i]]
		send, landing := sendable(rec, has, p.Fields, p.LastUpdated, time.Now())
		if send == nil {
			continue
		}
		ending[p.ID] = landing
		p.Fields = send
		out = append(out, p)
	}
	return out, ending
}

// refusal records NetBox's refusal of fields for target (with the
// target's last_updated as read) and returns what of fields may still be
// written now (the fields the refusal did not name), and whether the user
// must be told (the first time), with the journal entry's values.
func (w *writer) refusal(ctx context.Context, b *wbBatch, target string, fields map[string]any, lastUpdated string,
	answer *netbox.APIError) (rest, told map[string]any, whole, first bool) {
	rec := problems.Refusal{Fields: fields, Whole: true, LastUpdated: lastUpdated, Answer: answer.Answer()}
	named := answer.RefusedFields()
	if len(named) > 0 && !slices.ContainsFunc(named, func(n string) bool { _, ok := fields[n]; return !ok }) {
		rec = problems.Refusal{Fields: map[string]any{}, Answer: answer.Answer()}
		rest = maps.Clone(fields)
		for _, n := range named {
			rec.Fields[n] = fields[n]
			delete(rest, n)
		}
	}
	if target == problems.TargetFabric {
		rec.Name = b.name
	}
	first = true
	if w.r.problems != nil {
		var err error
		if first, err = w.r.problems.Refused(ctx, b.fabric, target, rec); err != nil {
			w.r.logger.Warn("refused write-back not recorded", "fabric", b.name, "target", target, "err", err)
			first = true
		}
	}
	if first {
		w.r.logger.Warn("NetBox refused a write-back because of the data; told in the journal, not sent again as it was",
			"fabric", b.name, "target", target, "status", answer.Status, "answer", answer.Answer())
		b.undo = append(b.undo, func(ctx context.Context) { w.accepted(ctx, b, target) })
	}
	return rest, rec.Fields, rec.Whole, first
}

// accepted ends the refusals of targets: their write-back landed (or the
// journal entry telling them could not be written, so they are told again).
func (w *writer) accepted(ctx context.Context, b *wbBatch, targets ...string) {
	if w.r.problems == nil || len(targets) == 0 {
		return
	}
	if err := w.r.problems.Accepted(ctx, b.fabric, targets...); err != nil {
		w.r.logger.Warn("refused write-backs not cleared", "fabric", b.name, "err", err)
	}
}

// objectsRefused records the refusals among a kind's sent patches, writes
// once more what a refusal did not name, and returns a journal entry for
// each told the first time; the writes that landed end their refusals.
func (w *writer) objectsRefused(ctx context.Context, b *wbBatch, k kind.Kind, sent []netbox.Patch, refused []netbox.Refusal,
	ending map[int64]bool, clean bool) []netbox.JournalEntry {
	var journal []netbox.JournalEntry
	bad := map[int64]bool{}
	lu := map[int64]string{}
	for _, p := range sent {
		lu[p.ID] = p.LastUpdated
	}
	for _, rf := range refused {
		bad[rf.ID] = true
		rest, told, whole, first := w.refusal(ctx, b, objectTarget(k, rf.ID), rf.Fields, lu[rf.ID], rf.Err)
		if len(rest) > 0 {
			res, err := w.r.wb.PatchObjects(ctx, k, []netbox.Patch{{ID: rf.ID, Fields: rest, LastUpdated: lu[rf.ID]}})
			if err != nil {
				w.r.logger.Warn("write-back to NetBox failed; retried by the next reconcile", "fabric", b.name, "kind", k.Name, "err", err)
			}
			w.saw(ctx, b, k, res.Saved...)
			w.count(patchOK, len(res.Saved))
			w.count(patchConflict, len(res.Conflicted))
		}
		if first {
			why := "The object's own data fails NetBox's checks: fix it in NetBox, then its status is written."
			if !whole {
				why = "NetBox refuses these values themselves; they are left out of this object's later writes."
			}
			journal = append(journal, netbox.JournalEntry{Kind: k, ObjectID: rf.ID, Level: netbox.JournalWarning,
				Comments: fmt.Sprintf("hnp-sidecar: NetBox refused to save this object's GitOps status (HTTP %d: %s); not saved: %s. %s",
					rf.Err.Status, rf.Err.Answer(), fieldList(told), why)})
		}
	}
	if clean {
		var ok []string
		for _, p := range sent {
			if !bad[p.ID] && ending[p.ID] {
				ok = append(ok, objectTarget(k, p.ID))
			}
		}
		w.accepted(ctx, b, ok...)
	}
	return journal
}

// fieldList is "a=1, b=x" in name order.
func fieldList(fields map[string]any) string {
	parts := make([]string, 0, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, fields[k]))
	}
	return strings.Join(parts, ", ")
}
