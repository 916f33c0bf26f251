package netbox

import (
	"context"
	"fmt"
	"net/http"

	nb "github.com/netbox-community/go-netbox/v4"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// Patch sets fields of one object; ID says which.
type Patch struct {
	ID     int64
	Fields map[string]any
}

// PatchObjects updates objects of kind k in one bulk request (NetBox's
// list-endpoint PATCH: one transaction, one webhook per object).
func (c *Client) PatchObjects(ctx context.Context, k kind.Kind, patches []Patch) error {
	if len(patches) == 0 {
		return nil
	}
	body := make([]map[string]any, 0, len(patches))
	for _, p := range patches {
		m := make(map[string]any, len(p.Fields)+1)
		for f, v := range p.Fields {
			m[f] = v
		}
		m["id"] = p.ID
		body = append(body, m)
	}
	if err := c.Do(ctx, http.MethodPatch, PluginPath+k.Endpoint, body, nil); err != nil {
		return fmt.Errorf("netbox: update %d %s: %w", len(patches), k.Name, err)
	}
	return nil
}

// PatchFabric updates fields of one fabric.
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
