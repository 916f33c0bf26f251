package reconcile

import (
	"regexp"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// resourceDrift is the HedgehogResource drift_status for a state (the
// plugin's choices in_sync, spec_drift, desired_only, actual_only,
// creation_pending, deletion_pending; not the fabric's).
func resourceDrift(st state.State) string {
	switch st {
	case state.Draft:
		return "creation_pending" // not in Git yet
	case state.Committed, state.Pending:
		return "desired_only" // in Git, not (yet) applied
	case state.Drifted:
		return "spec_drift"
	case state.Orphaned:
		return "deletion_pending" // in Git or the cluster, gone from NetBox
	}
	return "in_sync"
}

var commitSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// maxObjectID is the largest id the plugin's object_id (a
// PositiveIntegerField) stores.
const maxObjectID = 1<<31 - 1

// resourceFields are the fields of the HedgehogResource that shows rec.
// last_state_change is set by NetBox at creation and read-only through
// REST: the change's time is in state_change_reason instead.
func resourceFields(fabric int64, rec state.Record, types map[string]int64) map[string]any {
	k, _ := kind.Named(rec.Kind)
	f := map[string]any{
		"fabric": fabric, "name": rec.Name, "namespace": rec.Namespace, "kind": rec.Kind,
		"resource_state": string(rec.State), "drift_status": resourceDrift(rec.State),
		"desired_commit": "", "desired_file_path": "", "state_change_reason": stateChangeReason(rec),
	}
	if k.APIVersion != "" {
		f["api_version"] = k.APIVersion
	}
	if commitSHA.MatchString(rec.Commit) {
		f["desired_commit"] = rec.Commit
		if rec.State == state.Synced {
			f["last_synced_commit"] = rec.Commit
		}
	}
	if len(rec.Path) <= 500 {
		f["desired_file_path"] = rec.Path
	}
	if id, ok := types[k.Model]; ok && rec.NetBoxID > 0 && rec.NetBoxID <= maxObjectID {
		f["content_type"], f["object_id"] = id, rec.NetBoxID
	}
	return f
}

// stateChangeReason tells the state, since when, and why.
func stateChangeReason(rec state.Record) string {
	s := reasonPrefix + string(rec.State) + " since " + rec.UpdatedAt.UTC().Format(time.RFC3339)
	if rec.Commit != "" {
		s += " at commit " + state.ShortCommit(rec.Commit)
	}
	if rec.Reason != "" {
		s += ": " + rec.Reason
	}
	return s
}
