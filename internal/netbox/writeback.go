package netbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	nb "github.com/netbox-community/go-netbox/v4"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// Patch sets fields of one object; ID says which. LastUpdated, when set,
// is the object's last_updated as read: the update only happens if nobody
// changed the object since (If-Match).
type Patch struct {
	ID          int64
	Fields      map[string]any
	LastUpdated string
}

// Refusal is one write NetBox refused because of the data (see Refused):
// which object, the values refused and NetBox's answer.
type Refusal struct {
	ID     int64
	Fields map[string]any
	Err    *APIError
}

// PatchResult is what PatchObjects did besides the writes that landed.
type PatchResult struct {
	// Conflicted are objects changed since they were read (412): skipped.
	Conflicted []int64
	// Gone are objects deleted meanwhile (404): skipped.
	Gone int
	// Refused are writes NetBox refused because of the data.
	Refused []Refusal
	// Saved are the objects as NetBox answered the writes that landed:
	// their new last_updated is the ETag of the next write.
	Saved []Object
}

// patchConcurrency is how many PATCHes of one call are in flight: NetBox
// saves each object in its own request (with its own If-Match), so a bulk
// write-back is bound by the round trip, not by NetBox's work.
const patchConcurrency = 4

// PatchObjects updates objects of kind k, one request each, a few at a
// time. NetBox saves the whole object, so a write-back racing an
// engineer's edit could undo it: each request carries If-Match with the
// object's ETag (NetBox 4.7 checks it under a row lock), and an object
// changed meanwhile is skipped (412) and listed in Conflicted. NetBox's
// answer to a write that landed is listed in Saved (its last_updated is
// the object's new ETag). A write refused because of the data is listed
// in Refused and the next object is written; any other error stops the
// run (writes already in flight finish). Results keep patches' order.
func (c *Client) PatchObjects(ctx context.Context, k kind.Kind, patches []Patch) (PatchResult, error) {
	type answer struct {
		saved Object
		err   error
		done  bool
	}
	answers := make([]answer, len(patches))
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed bool
	)
	sem := make(chan struct{}, patchConcurrency)
	for i, p := range patches {
		mu.Lock()
		stop := failed
		mu.Unlock()
		if stop {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			a := answer{done: true}
			a.err = c.patchOne(ctx, k, p, &a.saved)
			if a.err != nil && !patchSkippable(a.err) {
				mu.Lock()
				failed = true
				mu.Unlock()
			}
			answers[i] = a
		}()
	}
	wg.Wait()
	var res PatchResult
	var first error
	for i, a := range answers {
		p := patches[i]
		ae := AsAPIError(a.err)
		switch {
		case !a.done:
		case a.err == nil:
			if a.saved.ID == p.ID {
				res.Saved = append(res.Saved, a.saved)
			}
		case ae != nil && ae.Status == http.StatusPreconditionFailed:
			res.Conflicted = append(res.Conflicted, p.ID)
		case errors.Is(a.err, ErrNotFound):
			res.Gone++
		case Refused(a.err):
			res.Refused = append(res.Refused, Refusal{ID: p.ID, Fields: p.Fields, Err: ae})
		case first == nil:
			first = fmt.Errorf("netbox: update %s %d: %w", k.Name, p.ID, a.err)
		}
	}
	return res, first
}

// patchOne sends one object's PATCH and decodes NetBox's answer into saved.
func (c *Client) patchOne(ctx context.Context, k kind.Kind, p Patch, saved *Object) error {
	var h http.Header
	if tag := etag(p.LastUpdated); tag != "" {
		h = http.Header{"If-Match": {tag}}
	}
	return c.do(ctx, http.MethodPatch, fmt.Sprintf("%s%s%d/", PluginPath, k.Endpoint, p.ID), p.Fields, saved, h)
}

// patchSkippable: the object's write failed alone (412, 404, a refusal).
func patchSkippable(err error) bool {
	ae := AsAPIError(err)
	return (ae != nil && ae.Status == http.StatusPreconditionFailed) || errors.Is(err, ErrNotFound) || Refused(err)
}

// etag is NetBox's weak ETag for an object whose last_updated (as the REST
// API renders it) is lastUpdated: W/"<Python isoformat>"; "" when unknown.
func etag(lastUpdated string) string {
	t, err := time.Parse(time.RFC3339Nano, lastUpdated)
	if err != nil {
		return ""
	}
	layout := "2006-01-02T15:04:05-07:00"
	if t.Nanosecond() != 0 {
		layout = "2006-01-02T15:04:05.000000-07:00"
	}
	return `W/"` + t.UTC().Format(layout) + `"`
}

// PatchFabric updates fields of one fabric. Refused(err) tells a refusal
// because of the data (the real plugin's fabric refuses every PATCH while
// its watch_crd_types is blank) from an outage.
func (c *Client) PatchFabric(ctx context.Context, id int64, fields map[string]any) error {
	if err := c.Do(ctx, http.MethodPatch, fmt.Sprintf("%s%s%d/", PluginPath, kind.Fabric.Endpoint, id), fields, nil); err != nil {
		return fmt.Errorf("netbox: update fabric %d: %w", id, err)
	}
	return nil
}

// Journal kinds, as NetBox names them.
const (
	JournalInfo    = string(nb.JOURNALENTRYKINDVALUE_INFO)
	JournalSuccess = string(nb.JOURNALENTRYKINDVALUE_SUCCESS)
	JournalWarning = string(nb.JOURNALENTRYKINDVALUE_WARNING)
	JournalDanger  = string(nb.JOURNALENTRYKINDVALUE_DANGER)
)

// JournalEntry is a note on one object's NetBox journal.
type JournalEntry struct {
	Kind     kind.Kind
	ObjectID int64
	Level    string // JournalInfo … JournalDanger
	Comments string
}

// AddJournalEntries writes entries in one bulk request. The entries are
// go-netbox's WritableJournalEntryRequest; go-netbox's own call creates
// one entry per request, so the list goes through Do to the same endpoint.
func (c *Client) AddJournalEntries(ctx context.Context, entries []JournalEntry) error {
	if len(entries) == 0 {
		return nil
	}
	body := make([]*nb.WritableJournalEntryRequest, 0, len(entries))
	for _, e := range entries {
		r := nb.NewWritableJournalEntryRequest(e.Kind.ObjectType(), e.ObjectID, e.Comments)
		r.SetKind(nb.JournalEntryKindValue(e.Level))
		body = append(body, r)
	}
	if err := c.Do(ctx, http.MethodPost, "/api/extras/journal-entries/", body, nil); err != nil {
		return fmt.Errorf("netbox: add %d journal entries: %w", len(entries), err)
	}
	return nil
}
