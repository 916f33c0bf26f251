package reconcile

import (
	"context"
	"errors"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// prime builds fabric's mirror from NetBox's list: every HedgehogResource
// of a record, or written by the sidecar (its reason says so). Others are
// not the sidecar's and are left alone. netbox.ErrNotFound: no endpoint.
func (s *resources) prime(ctx context.Context, fabric int64, recs map[string]state.Record) (map[string]state.Mirror, error) {
	list, err := s.c.ListResources(ctx, fabric)
	if errors.Is(err, netbox.ErrNotFound) {
		s.set(ResourcesOff)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	s.set(ResourcesOn)
	mir := map[string]state.Mirror{}
	for _, res := range list {
		if _, ours := kind.Named(res.Kind); !ours {
			continue
		}
		field := state.Field(res.Kind, res.Namespace, res.Name)
		if _, has := recs[field]; has || strings.HasPrefix(res.StateChangeReason, reasonPrefix) {
			mir[field] = state.Mirror{ID: res.ID, Fields: listedFields(res)}
		}
	}
	return mir, nil
}

// listedFields are a listed HedgehogResource's fields as resourceFields
// names them, so only those that differ are patched.
func listedFields(res netbox.Resource) map[string]any {
	f := map[string]any{"fabric": int64(res.Fabric), "name": res.Name, "namespace": res.Namespace, "kind": res.Kind,
		"api_version": res.APIVersion, "resource_state": res.ResourceState, "drift_status": res.DriftStatus,
		"desired_commit": res.DesiredCommit, "desired_file_path": res.DesiredFilePath,
		"state_change_reason": res.StateChangeReason, "last_synced_commit": res.LastSyncedCommit}
	if res.ContentType != 0 && res.ObjectID != nil {
		f["content_type"], f["object_id"] = int64(res.ContentType), *res.ObjectID
	}
	return f
}
