package reconcile

import (
	"context"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// changed is the key of an object's NetBox change among a run's hints.
type changed struct {
	kind string
	id   int64
}

// noteChanges remembers, for each object the run's hints (NetBox's own
// changes: fromNetBox) name, when NetBox made its oldest change: after a
// successful push its record gets it (state.Change.ChangedAt), which
// measures hnp_sync_latency_seconds. A full run also reads the queued
// hints of the other objects it pushes (noteWaiting); objects no hint
// names (a re-render, a re-sync) are not measured.
func (t *tracking) noteChanges(hints []queue.Hint) {
	if t == nil {
		return
	}
	for _, h := range hints {
		k, ok := kind.Lookup(h.ObjectType)
		at := changeTime(h)
		if !ok || at.IsZero() || h.Event == "deleted" {
			continue
		}
		if t.changed == nil {
			t.changed = map[changed]time.Time{}
		}
		c := changed{kind: k.Name, id: h.ObjectID}
		if prev, has := t.changed[c]; !has || at.Before(prev) {
			t.changed[c] = at
		}
	}
}

// ChangeHints knows the hints other queue keys hold (*queue.Queue,
// queue.Queue.Waiting): a full run that pushes other objects' changes
// (their keys' own runs find them covered and stop) reads when NetBox
// made them there.
type ChangeHints interface {
	Waiting(ctx context.Context, keys []queue.Key) (map[queue.Key][]queue.Hint, error)
}

// WithChangeHints makes full runs measure (hnp_sync_latency_seconds) the
// changes of every object they push, from the hints the queue holds for
// them, not only those of the run's own hints.
func WithChangeHints(h ChangeHints) Option { return func(r *Reconciler) { r.waiting = h } }

// noteWaiting adds the queued hints of the objects the run pushes that its
// own hints do not name. A failure only leaves them unmeasured.
func (t *tracking) noteWaiting(ctx context.Context) {
	if t == nil || t.r.waiting == nil {
		return
	}
	var keys []queue.Key
	for _, ob := range t.objects {
		if k, ok := kind.Named(ob.key.Kind); ok && ob.pushing && t.changedAt(ob).IsZero() {
			keys = append(keys, queue.NewKey(k.ObjectType(), ob.id))
		}
	}
	if len(keys) == 0 {
		return
	}
	waiting, err := t.r.waiting.Waiting(ctx, keys)
	if err != nil {
		t.r.logger.Debug("queued hints not read; those changes are not measured", "fabric", t.name, "err", err)
		return
	}
	for _, hs := range waiting {
		t.noteChanges(fromNetBox(hs))
	}
}

// changeTime is when NetBox made the hint's change: the object's
// last_updated, else the event's timestamp, else when the webhook arrived.
func changeTime(h queue.Hint) time.Time {
	for _, s := range []string{h.LastUpdated, h.Timestamp} {
		if s == "" {
			continue
		}
		if at, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return at
		}
	}
	return h.ReceivedAt
}

// changedAt is when the object's change this run pushes was made (zero:
// unknown, not measured).
func (t *tracking) changedAt(ob *tracked) time.Time {
	return t.changed[changed{kind: ob.key.Kind, id: ob.id}]
}
