package fabric

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

type named struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type page struct {
	Next    *string `json:"next"`
	Results []named `json:"results"`
}

// WatchCRDTypes is a non-empty watch_crd_types for fabrics made through
// the REST API: the plugin's full_clean() refuses a blank one (the default
// []) on every REST write of a fabric.
var WatchCRDTypes = []string{"VPC", "Connection", "Switch", "Server"}

// EnsureFabric returns the id of the fabric named name, creating it with
// fields, or setting fields on the existing one. Both carry WatchCRDTypes
// unless fields names watch_crd_types.
func EnsureFabric(ctx context.Context, nb *netbox.Client, name string, fields map[string]any) (int64, error) {
	fields = WithWatch(fields)
	var p page
	if err := nb.Do(ctx, http.MethodGet, netbox.PluginPath+"fabrics/?limit=1000&name="+url.QueryEscape(name), nil, &p); err != nil {
		return 0, fmt.Errorf("fabric: list fabrics: %w", err)
	}
	for _, f := range p.Results {
		if f.Name == name {
			if len(fields) > 0 {
				if err := nb.Do(ctx, http.MethodPatch, fmt.Sprintf("%sfabrics/%d/", netbox.PluginPath, f.ID), fields, nil); err != nil {
					return 0, fmt.Errorf("fabric: update fabric %s: %w", name, err)
				}
			}
			return f.ID, nil
		}
	}
	body := map[string]any{"name": name}
	for k, v := range fields {
		body[k] = v
	}
	var f named
	if err := nb.Do(ctx, http.MethodPost, netbox.PluginPath+"fabrics/", body, &f); err != nil {
		return 0, fmt.Errorf("fabric: create fabric %s: %w", name, err)
	}
	return f.ID, nil
}

// Load creates the objects under fabric id, skipping those that exist
// (same kind and name in that fabric). It returns how many it created.
func Load(ctx context.Context, nb *netbox.Client, fabricID int64, objs []Object) (int, error) {
	created := 0
	for _, o := range objs {
		var got named
		err := nb.Do(ctx, http.MethodPost, netbox.PluginPath+o.Kind.Endpoint,
			map[string]any{"fabric": fabricID, "name": o.Name, "namespace": "default", "spec": o.Spec}, &got)
		var apiErr *netbox.APIError
		if errors.As(err, &apiErr) && (apiErr.Status == http.StatusBadRequest || apiErr.Status == http.StatusInternalServerError) && exists(apiErr) {
			continue
		}
		if err != nil {
			return created, fmt.Errorf("fabric: create %s %s: %w", o.Kind.Name, o.Name, err)
		}
		created++
	}
	return created, nil
}

// exists recognises NetBox's answer to a duplicate (fabric, namespace, name).
// exists: NetBox 4.7 answers a duplicate (fabric, namespace, name) with a
// 500 IntegrityError (the plugin's unique_together is left to the
// database); older versions with a 400.
func exists(e *netbox.APIError) bool {
	return strings.Contains(e.Body, "already exists") || strings.Contains(e.Body, "must make a unique set") ||
		strings.Contains(e.Body, "duplicate key value")
}

// WithWatch is fields (a copy) with watch_crd_types set to WatchCRDTypes
// unless it names one.
func WithWatch(fields map[string]any) map[string]any {
	out := map[string]any{"watch_crd_types": WatchCRDTypes}
	for k, v := range fields {
		out[k] = v
	}
	return out
}
