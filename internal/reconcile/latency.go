package reconcile

import (
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
// measures hnp_sync_latency_seconds. Objects no hint names (a full run
// covering another object's change, a re-render, a re-sync) are not
// measured.
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
