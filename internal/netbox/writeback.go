package netbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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

// PatchObjects updates objects of kind k, one request each. NetBox saves
// the whole object, so a write-back racing an engineer's edit could undo
// it: each request carries If-Match with the object's ETag (NetBox 4.7
// checks it under a row lock), and an object changed meanwhile is skipped
// (412) and listed in Conflicted. NetBox's answer to a write that landed
// is listed in Saved (its last_updated is the object's new ETag). A write refused because of the data is
// listed in Refused and the next object is written; any other error stops
// the run.
func (c *Client) PatchObjects(ctx context.Context, k kind.Kind, patches []Patch) (PatchResult, error) {
	var res PatchResult
	for _, p := range patches {
		var h http.Header
		if tag := etag(p.LastUpdated); tag != "" {
			h = http.Header{"If-Match": {tag}}
		}
		var saved Object
		err := c.do(ctx, http.MethodPatch, fmt.Sprintf("%s%s%d/", PluginPath, k.Endpoint, p.ID), p.Fields, &saved, h)
		ae := AsAPIError(err)
		switch {
		case err == nil:
			if saved.ID == p.ID {
				res.Saved = append(res.Saved, saved)
			}
		case ae != nil && ae.Status == http.StatusPreconditionFailed:
			res.Conflicted = append(res.Conflicted, p.ID)
		case errors.Is(err, ErrNotFound):
			res.Gone++
		case Refused(err):
			res.Refused = append(res.Refused, Refusal{ID: p.ID, Fields: p.Fields, Err: ae})
		default:
			return res, fmt.Errorf("netbox: update %s %d: %w", k.Name, p.ID, err)
		}
	}
	return res, nil
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
