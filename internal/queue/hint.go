// Package queue is the durable, coalescing work queue in Redis that sits
// between the webhook receiver and the reconciler. A hint says "object K
// changed"; the queue guarantees every accepted hint leads to at least one
// run of the handler for K after it, that many hints for one waiting K are one
// run, and that K never runs on two workers at once.
package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadKey is returned for a key that is not "<object_type>:<id>".
var ErrBadKey = errors.New("queue: bad key")

// Key identifies one NetBox object: "<object_type>:<id>", for example
// "netbox_hedgehog.vpc:12". It is the unit of work, coalescing and retry.
type Key string

// NewKey builds the key of a NetBox object.
func NewKey(objectType string, id int64) Key {
	return Key(objectType + ":" + strconv.FormatInt(id, 10))
}

// ParseKey checks s and splits it into object type and id.
func ParseKey(s string) (objectType string, id int64, err error) {
	t, n, ok := strings.Cut(s, ":")
	if !ok || t == "" || strings.ContainsAny(t, " /{}:") || len(s) > 128 {
		return "", 0, fmt.Errorf("%w: %q", ErrBadKey, s)
	}
	id, err = strconv.ParseInt(n, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, fmt.Errorf("%w: %q", ErrBadKey, s)
	}
	return t, id, nil
}

// Hint is what one webhook told us about an object. The reconciler treats
// it as a hint only: it re-reads the object's current state from NetBox.
type Hint struct {
	ObjectType string `json:"object_type"`
	ObjectID   int64  `json:"object_id"`
	// Kind is the Hedgehog kind ("VPC") or "Fabric".
	Kind string `json:"kind"`
	// Event is created, updated or deleted.
	Event string `json:"event"`
	// User is the NetBox user who made the change, when known.
	User string `json:"user,omitempty"`
	// RequestID is NetBox's request id; a bulk edit shares one.
	RequestID string `json:"request_id,omitempty"`
	// LastUpdated is data.last_updated of the object.
	LastUpdated string `json:"last_updated,omitempty"`
	// Fabric is the id of the object's fabric (data.fabric), when known.
	Fabric int64 `json:"fabric,omitempty"`
	// PrevFabric is the fabric the object was in before this change.
	PrevFabric int64 `json:"prev_fabric,omitempty"`
	// Timestamp is when NetBox flushed the event.
	Timestamp string `json:"timestamp,omitempty"`
	// ReceivedAt is when the receiver accepted the hint.
	ReceivedAt time.Time `json:"received_at"`
	// A delete's object fields are not kept: nothing reads them (the
	// reconcile reads the fabric from NetBox and its records from Redis).
}

// Key returns the object key the hint is about.
func (h Hint) Key() Key { return NewKey(h.ObjectType, h.ObjectID) }

// Item is one unit of work handed to the Handler: a key and the hints that
// arrived for it since it last ran, oldest first. Hints may be empty when the
// key was queued without one (a dead-letter replay).
type Item struct {
	Key   Key
	Hints []Hint
	// Attempt counts runs of this key since its last success, from 1.
	Attempt int
}

// Latest returns the most recent hint, if any.
func (it Item) Latest() (Hint, bool) {
	if len(it.Hints) == 0 {
		return Hint{}, false
	}
	return it.Hints[len(it.Hints)-1], true
}

func decodeHints(raw []string) ([]Hint, error) {
	out := make([]Hint, 0, len(raw))
	var errs []error
	for _, s := range raw {
		var h Hint
		if err := json.Unmarshal([]byte(s), &h); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, h)
	}
	return out, errors.Join(errs...)
}
