package reconcile

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

func TestResourceDriftMapsEveryState(t *testing.T) {
	plugin := map[string]bool{"in_sync": true, "spec_drift": true, "desired_only": true, "actual_only": true,
		"creation_pending": true, "deletion_pending": true}
	want := map[state.State]string{state.Draft: "creation_pending", state.Committed: "desired_only",
		state.Pending: "desired_only", state.Synced: "in_sync", state.Drifted: "spec_drift", state.Orphaned: "deletion_pending"}
	for _, st := range state.States {
		got := resourceDrift(st)
		require.True(t, plugin[got], "%s → %s is one of the plugin's choices", st, got)
		require.Equal(t, want[st], got, st)
	}
}

func TestResourceFields(t *testing.T) {
	sha := strings.Repeat("ab", 20)
	at := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	rec := func(st state.State, commit, reason string, id int64) state.Record {
		return state.Record{Key: state.Key{Fabric: 3, Kind: "VPC", Namespace: "default", Name: "vpc-1"}, State: st,
			Commit: commit, Reason: reason, Path: "f/managed/vpcs/vpc-1.yaml", NetBoxID: id, UpdatedAt: at}
	}
	types := map[string]int64{"vpc": 91}
	tests := []struct {
		name  string
		rec   state.Record
		types map[string]int64
		want  map[string]any
	}{
		{"draft with a reason, no link without types", rec(state.Draft, "", "spec.subnets: required", 5), nil, map[string]any{
			"resource_state": "draft", "drift_status": "creation_pending", "desired_commit": "",
			"state_change_reason": "hnp-sidecar: draft since 2026-12-07T18:00:00Z: spec.subnets: required"}},
		{"committed, linked", rec(state.Committed, sha, "", 5), types, map[string]any{
			"resource_state": "committed", "drift_status": "desired_only", "desired_commit": sha, "content_type": int64(91),
			"object_id": int64(5), "state_change_reason": "hnp-sidecar: committed since 2026-12-07T18:00:00Z at commit abababababab"}},
		{"synced records the synced commit", rec(state.Synced, sha, "", 5), types, map[string]any{
			"resource_state": "synced", "drift_status": "in_sync", "last_synced_commit": sha}},
		{"not a full SHA: left empty", rec(state.Pending, "abc", "", 0), types, map[string]any{
			"resource_state": "pending", "desired_commit": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resourceFields(3, tt.rec, tt.types)
			require.Equal(t, int64(3), got["fabric"])
			require.Equal(t, "VPC", got["kind"])
			require.Equal(t, "vpc.githedgehog.com/v1beta1", got["api_version"])
			require.Equal(t, "f/managed/vpcs/vpc-1.yaml", got["desired_file_path"])
			for k, v := range tt.want {
				require.Equal(t, v, got[k], k)
			}
			if tt.rec.NetBoxID == 0 || tt.types == nil {
				require.NotContains(t, got, "content_type")
			}
			if tt.rec.State != state.Synced {
				require.NotContains(t, got, "last_synced_commit")
			}
		})
	}
}

// fakeResources is gitops-resources/ in memory, recording each call.
type fakeResources struct {
	byID   map[int64]map[string]any
	next   int64
	calls  []string
	refuse string // a kind NetBox refuses
	none   bool   // no endpoint
}

func (f *fakeResources) ListResources(context.Context, int64) ([]netbox.Resource, error) {
	f.calls = append(f.calls, "list")
	if f.none {
		return nil, &netbox.APIError{Method: "GET", Status: http.StatusNotFound}
	}
	var out []netbox.Resource
	for id, r := range f.byID {
		out = append(out, netbox.Resource{ID: id, Fabric: netbox.Ref(r["fabric"].(int64)), Kind: r["kind"].(string),
			Namespace: r["namespace"].(string), Name: r["name"].(string), StateChangeReason: r["state_change_reason"].(string)})
	}
	return out, nil
}

func (f *fakeResources) CreateResource(_ context.Context, fields map[string]any) (netbox.Resource, error) {
	f.calls = append(f.calls, "create "+fields["name"].(string))
	if fields["kind"] == f.refuse {
		return netbox.Resource{}, &netbox.APIError{Method: "POST", Status: http.StatusBadRequest, Body: `{"name":["bad"]}`}
	}
	f.next++
	f.byID[f.next] = fields
	return netbox.Resource{ID: f.next}, nil
}

func (f *fakeResources) PatchResource(_ context.Context, id int64, fields map[string]any) error {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	f.calls = append(f.calls, "patch "+strings.Join(sortedStrings(keys), ","))
	r, ok := f.byID[id]
	if !ok {
		return &netbox.APIError{Method: "PATCH", Status: http.StatusNotFound}
	}
	for k, v := range fields {
		r[k] = v
	}
	return nil
}

func (f *fakeResources) DeleteResource(_ context.Context, id int64) error {
	f.calls = append(f.calls, "delete")
	delete(f.byID, id)
	return nil
}

func (f *fakeResources) ObjectTypeIDs(context.Context) (map[string]int64, error) {
	return map[string]int64{"vpc": 91}, nil
}

func sortedStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// One record through its states: created once, then patched with only
// what changed, not written when nothing did, deleted when the record ends;
// a refusal is not sent again; a 404 on the list turns the feature off.
func TestResourceRunWritesOnlyChanges(t *testing.T) {
	ctx := context.Background()
	f := &fakeResources{byID: map[int64]map[string]any{}}
	s := newResources(f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	at := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	sha := strings.Repeat("c", 40)
	recOf := func(name string, st state.State, commit string) state.Record {
		return state.Record{Key: state.Key{Fabric: 1, Kind: "VPC", Namespace: "default", Name: name}, State: st,
			Commit: commit, NetBoxID: 4, UpdatedAt: at}
	}
	mir, err := s.prime(ctx, 1, nil)
	require.NoError(t, err)
	require.Empty(t, mir)
	step := func(recs ...state.Record) []string {
		f.calls = nil
		m := map[string]state.Record{}
		for _, r := range recs {
			m[state.Field(r.Kind, r.Namespace, r.Name)] = r
		}
		run := &resourceRun{s: s, fabric: 1, set: map[string]state.Mirror{}}
		run.apply(ctx, m, mir, s.objectTypes(ctx))
		for k, v := range run.set {
			mir[k] = v
		}
		for _, k := range run.del {
			delete(mir, k)
		}
		return f.calls
	}
	require.Equal(t, []string{"create vpc-1"}, step(recOf("vpc-1", state.Draft, "")))
	require.Equal(t, "draft", f.byID[1]["resource_state"])
	require.Equal(t, int64(91), f.byID[1]["content_type"])
	require.Empty(t, step(recOf("vpc-1", state.Draft, "")), "nothing changed: nothing sent")
	require.Equal(t, []string{"patch desired_commit,drift_status,resource_state,state_change_reason"},
		step(recOf("vpc-1", state.Committed, sha)))
	require.Equal(t, []string{"patch drift_status,last_synced_commit,resource_state,state_change_reason"},
		step(recOf("vpc-1", state.Synced, sha)))
	require.Equal(t, "synced", f.byID[1]["resource_state"])

	delete(f.byID, 1) // deleted in NetBox by someone: created again
	require.Equal(t, []string{"patch drift_status,resource_state,state_change_reason", "create vpc-1"},
		step(recOf("vpc-1", state.Drifted, sha)))
	require.Equal(t, []string{"delete"}, step(), "the record ended: its resource is deleted")
	require.Empty(t, f.byID)

	f.refuse = "Switch"
	sw := recOf("leaf-1", state.Draft, "")
	sw.Kind = "Switch"
	require.Equal(t, []string{"create leaf-1"}, step(sw))
	require.Empty(t, step(sw), "refused with the same values: not sent again")

	f.none = true
	_, err = s.prime(ctx, 1, nil)
	require.ErrorIs(t, err, netbox.ErrNotFound)
	require.False(t, s.usable(), "no gitops-resources/: off")
	require.Equal(t, ResourcesOff, s.status)
}
