package netbox

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/githedgehog/hnp-sidecar/webhooks"
)

// NetBox 4.0 had no event_types on an event rule: three booleans said
// which changes fire it (DESIGN.md §3). go-netbox speaks the 4.1+ shape,
// so the 4.0 rule is written as plain JSON.

// legacyEvents reports whether NetBox version v takes type_create,
// type_update and type_delete instead of event_types.
func legacyEvents(v string) bool { return majorMinor(v) == [2]int{4, 0} }

// rule40 is an event rule as NetBox 4.0 reads and writes it.
type rule40 struct {
	ID               int64    `json:"id,omitempty"`
	Name             string   `json:"name"`
	Description      string   `json:"description"`
	ObjectTypes      []string `json:"object_types"`
	TypeCreate       bool     `json:"type_create"`
	TypeUpdate       bool     `json:"type_update"`
	TypeDelete       bool     `json:"type_delete"`
	Enabled          bool     `json:"enabled"`
	ActionType       any      `json:"action_type"`
	ActionObjectType string   `json:"action_object_type"`
	ActionObjectID   *int64   `json:"action_object_id"`
}

// desired40 is r in NetBox 4.0's shape; an event type 4.0 cannot express
// (job_started, say) is an error rather than silently dropped.
func desired40(r webhooks.EventRule, webhookID int32) (rule40, error) {
	id := int64(webhookID)
	out := rule40{Name: r.Name, Description: r.Description, ObjectTypes: r.ObjectTypes, Enabled: r.Enabled,
		ActionType: "webhook", ActionObjectType: "extras.webhook", ActionObjectID: &id}
	for _, e := range r.EventTypes {
		switch e {
		case "object_created":
			out.TypeCreate = true
		case "object_updated":
			out.TypeUpdate = true
		case "object_deleted":
			out.TypeDelete = true
		default:
			return rule40{}, fmt.Errorf("netbox: event rule %q: NetBox 4.0 has no event type %q", r.Name, e)
		}
	}
	return out, nil
}

// actionValue is action_type as read: {"value": "webhook", …} or a string.
func actionValue(v any) string {
	switch a := v.(type) {
	case string:
		return a
	case map[string]any:
		s, _ := a["value"].(string)
		return s
	}
	return ""
}

func (a rule40) same(b rule40) bool {
	return sameSet(a.ObjectTypes, b.ObjectTypes) && a.TypeCreate == b.TypeCreate && a.TypeUpdate == b.TypeUpdate &&
		a.TypeDelete == b.TypeDelete && a.Enabled == b.Enabled && actionValue(a.ActionType) == actionValue(b.ActionType) &&
		a.ActionObjectType == b.ActionObjectType && a.ActionObjectID != nil && b.ActionObjectID != nil &&
		*a.ActionObjectID == *b.ActionObjectID && a.Description == b.Description
}

// ensureEventRule40 is EnsureEventRule for NetBox 4.0.
func (c *Client) ensureEventRule40(ctx context.Context, r webhooks.EventRule, webhookID int32) (int32, Action, error) {
	want, err := desired40(r, webhookID)
	if err != nil {
		return 0, "", err
	}
	var list struct {
		Results []rule40 `json:"results"`
	}
	if err := c.Do(ctx, http.MethodGet, "api/extras/event-rules/?name="+url.QueryEscape(r.Name), nil, &list); err != nil {
		return 0, "", fmt.Errorf("netbox: list event rules: %w", err)
	}
	if len(list.Results) == 0 {
		var made rule40
		if err := c.Do(ctx, http.MethodPost, "api/extras/event-rules/", want, &made); err != nil {
			return 0, "", fmt.Errorf("netbox: create event rule: %w", err)
		}
		return int32(made.ID), Created, nil //nolint:gosec // NetBox ids fit
	}
	have := list.Results[0]
	if have.same(want) {
		return int32(have.ID), Unchanged, nil //nolint:gosec // NetBox ids fit
	}
	if err := c.Do(ctx, http.MethodPatch, fmt.Sprintf("api/extras/event-rules/%d/", have.ID), want, nil); err != nil {
		return 0, "", fmt.Errorf("netbox: update event rule: %w", err)
	}
	return int32(have.ID), Updated, nil //nolint:gosec // NetBox ids fit
}
