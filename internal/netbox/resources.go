package netbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// ResourcesEndpoint is the plugin's HedgehogResource endpoint: one record
// per object with its six-state value, shown in the plugin's UI. Plugin
// builds without it answer 404 on the list.
const ResourcesEndpoint = "gitops-resources/"

// Resource is one HedgehogResource as the plugin serves it (its serializer
// takes every model field; fabric and content_type are integer ids;
// last_state_change is set by NetBox at creation and read-only).
type Resource struct {
	ID                int64  `json:"id"`
	Fabric            Ref    `json:"fabric"`
	Name              string `json:"name"`
	Namespace         string `json:"namespace"`
	Kind              string `json:"kind"`
	APIVersion        string `json:"api_version"`
	ContentType       Ref    `json:"content_type"`
	ObjectID          *int64 `json:"object_id"`
	ResourceState     string `json:"resource_state"`
	DesiredCommit     string `json:"desired_commit"`
	DesiredFilePath   string `json:"desired_file_path"`
	DriftStatus       string `json:"drift_status"`
	StateChangeReason string `json:"state_change_reason"`
	LastStateChange   string `json:"last_state_change"`
	LastSyncedCommit  string `json:"last_synced_commit"`
}

// ListResources lists the HedgehogResources of fabric, every page. The
// plugin's viewset filters by fabric (filterset_fields); the answer is
// filtered here too. ErrNotFound: the plugin has no gitops-resources/.
func (c *Client) ListResources(ctx context.Context, fabric int64) ([]Resource, error) {
	all, err := list[Resource](ctx, c, fmt.Sprintf("%s%s?fabric=%d", PluginPath, ResourcesEndpoint, fabric))
	if err != nil {
		return nil, err
	}
	return inFabric(all, fabric, func(r Resource) Ref { return r.Fabric }), nil
}

// CreateResource creates a HedgehogResource with fields.
func (c *Client) CreateResource(ctx context.Context, fields map[string]any) (Resource, error) {
	var r Resource
	err := c.Do(ctx, http.MethodPost, PluginPath+ResourcesEndpoint, fields, &r)
	return r, err
}

// PatchResource sets fields of HedgehogResource id. ErrNotFound: deleted.
func (c *Client) PatchResource(ctx context.Context, id int64, fields map[string]any) error {
	return c.Do(ctx, http.MethodPatch, fmt.Sprintf("%s%s%d/", PluginPath, ResourcesEndpoint, id), fields, nil)
}

// DeleteResource deletes HedgehogResource id; one already gone is no error.
func (c *Client) DeleteResource(ctx context.Context, id int64) error {
	err := c.Do(ctx, http.MethodDelete, fmt.Sprintf("%s%s%d/", PluginPath, ResourcesEndpoint, id), nil, nil)
	if err != nil && isNotFound(err) {
		return nil
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// ObjectTypeIDs maps the plugin's model names ("vpc") to their NetBox
// object type ids (the ContentType ids a HedgehogResource's content_type
// takes): /api/core/object-types/ (NetBox ≥ 4.1), else
// /api/extras/object-types/ (4.0).
func (c *Client) ObjectTypeIDs(ctx context.Context) (map[string]int64, error) {
	type objectType struct {
		ID       int64  `json:"id"`
		AppLabel string `json:"app_label"`
		Model    string `json:"model"`
	}
	var types []objectType
	var err error
	for _, p := range []string{"/api/core/object-types/", "/api/extras/object-types/"} {
		types, err = list[objectType](ctx, c, p+"?app_label="+kind.App)
		if err == nil || !isNotFound(err) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, t := range types {
		if t.AppLabel == kind.App {
			out[strings.ToLower(t.Model)] = t.ID
		}
	}
	return out, nil
}
