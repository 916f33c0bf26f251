package netbox

import (
	"context"
	"fmt"
	"slices"

	gonetbox "github.com/netbox-community/go-netbox/v4"

	"github.com/githedgehog/hnp-sidecar/webhooks"
)

// Action says what an Ensure call did.
type Action string

// Ensure outcomes.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
)

// WebhookSpec is a webhook definition with its deployment values.
type WebhookSpec struct {
	webhooks.Webhook
	// URL is where NetBox reaches the sidecar's webhook endpoint.
	URL    string
	Secret string
}

// EnsureWebhook creates the webhook named spec.Name or brings it in line
// with spec. Run twice, the second run changes nothing.
func (c *Client) EnsureWebhook(ctx context.Context, spec WebhookSpec) (int32, Action, error) {
	list, resp, err := c.api.ExtrasAPI.ExtrasWebhooksList(ctx).Name([]string{spec.Name}).Execute()
	if err != nil {
		return 0, "", httpError("list webhooks", resp, err)
	}
	method := gonetbox.PatchedWebhookRequestHttpMethod(spec.HTTPMethod)
	if len(list.Results) == 0 {
		req := gonetbox.NewWebhookRequest(spec.Name, spec.URL)
		req.Description, req.HttpMethod = &spec.Description, &method
		req.HttpContentType, req.Secret, req.SslVerification = &spec.HTTPContentType, &spec.Secret, &spec.SSLVerification
		w, resp, err := c.api.ExtrasAPI.ExtrasWebhooksCreate(ctx).WebhookRequest(*req).Execute()
		if err != nil {
			return 0, "", httpError("create webhook", resp, err)
		}
		return w.Id, Created, nil
	}
	w := list.Results[0]
	if w.PayloadUrl == spec.URL && w.GetDescription() == spec.Description && w.GetHttpMethod() == method &&
		w.GetHttpContentType() == spec.HTTPContentType && w.GetSslVerification() == spec.SSLVerification &&
		w.Secret != nil && *w.Secret == spec.Secret && w.GetBodyTemplate() == "" {
		return w.Id, Unchanged, nil
	}
	patch := gonetbox.PatchedWebhookRequest{
		Description: &spec.Description, PayloadUrl: &spec.URL, HttpMethod: &method,
		HttpContentType: &spec.HTTPContentType, SslVerification: &spec.SSLVerification,
		Secret: &spec.Secret, BodyTemplate: new(string),
	}
	if _, resp, err := c.api.ExtrasAPI.ExtrasWebhooksPartialUpdate(ctx, w.Id).PatchedWebhookRequest(patch).Execute(); err != nil {
		return 0, "", httpError("update webhook", resp, err)
	}
	return w.Id, Updated, nil
}

// EnsureEventRule creates the event rule named r.Name, calling the webhook
// webhookID, or brings it in line.
func (c *Client) EnsureEventRule(ctx context.Context, r webhooks.EventRule, webhookID int32) (int32, Action, error) {
	list, resp, err := c.api.ExtrasAPI.ExtrasEventRulesList(ctx).Name([]string{r.Name}).Execute()
	if err != nil {
		return 0, "", httpError("list event rules", resp, err)
	}
	events := make([]gonetbox.EventRuleEventTypesInner, 0, len(r.EventTypes))
	for _, e := range r.EventTypes {
		events = append(events, gonetbox.EventRuleEventTypesInner(e))
	}
	action := gonetbox.EVENTRULEACTIONTYPEVALUE_WEBHOOK
	target := gonetbox.NewNullableInt64(gonetbox.PtrInt64(int64(webhookID)))
	if len(list.Results) == 0 {
		req := gonetbox.NewWritableEventRuleRequest(r.ObjectTypes, r.Name, events, "extras.webhook")
		req.Enabled, req.ActionType, req.ActionObjectId, req.Description = &r.Enabled, &action, *target, &r.Description
		e, resp, err := c.api.ExtrasAPI.ExtrasEventRulesCreate(ctx).WritableEventRuleRequest(*req).Execute()
		if err != nil {
			return 0, "", httpError("create event rule", resp, err)
		}
		return e.Id, Created, nil
	}
	e := list.Results[0]
	if sameSet(e.ObjectTypes, r.ObjectTypes) && sameSet(e.EventTypes, events) && e.GetEnabled() == r.Enabled &&
		e.ActionType.GetValue() == action && e.ActionObjectType == "extras.webhook" &&
		e.ActionObjectId.Get() != nil && *e.ActionObjectId.Get() == int64(webhookID) &&
		e.GetDescription() == r.Description {
		return e.Id, Unchanged, nil
	}
	patch := gonetbox.PatchedWritableEventRuleRequest{
		ObjectTypes: r.ObjectTypes, EventTypes: events, Enabled: &r.Enabled, ActionType: &action,
		ActionObjectType: gonetbox.PtrString("extras.webhook"), ActionObjectId: *target, Description: &r.Description,
	}
	if _, resp, err := c.api.ExtrasAPI.ExtrasEventRulesPartialUpdate(ctx, e.Id).PatchedWritableEventRuleRequest(patch).Execute(); err != nil {
		return 0, "", httpError("update event rule", resp, err)
	}
	return e.Id, Updated, nil
}

func sameSet[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// Bootstrap installs the sidecar's webhook and event rules into NetBox.
// It returns one line per object saying what it did.
func (c *Client) Bootstrap(ctx context.Context, defs webhooks.Definitions, sidecarURL, secret string) ([]string, error) {
	return c.bootstrap(ctx, defs, sidecarURL, secret, false)
}

// bootstrap is Bootstrap; legacy writes the event rules in NetBox 4.0's
// shape (type_create/type_update/type_delete).
func (c *Client) bootstrap(ctx context.Context, defs webhooks.Definitions, sidecarURL, secret string, legacy bool) ([]string, error) {
	ensureRule := c.EnsureEventRule
	if legacy {
		ensureRule = c.ensureEventRule40
	}
	spec := WebhookSpec{Webhook: defs.Webhook, URL: sidecarURL + defs.Webhook.PayloadPath, Secret: secret}
	id, act, err := c.EnsureWebhook(ctx, spec)
	if err != nil {
		return nil, err
	}
	out := []string{fmt.Sprintf("webhook %q (id %d): %s", spec.Name, id, act)}
	for _, r := range defs.EventRules {
		rid, act, err := ensureRule(ctx, r, id)
		if err != nil {
			return out, err
		}
		out = append(out, fmt.Sprintf("event rule %q (id %d): %s", r.Name, rid, act))
	}
	return out, nil
}
