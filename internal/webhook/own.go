package webhook

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// ownedFields are the fields hnp-sidecar writes back to NetBox (DESIGN.md
// §4), plus last_updated, which every save changes.
var ownedFields = map[string]bool{
	"last_updated": true,
	// CR objects
	"kubernetes_status": true, "sync_error": true, "git_file_path": true, "last_synced": true, "last_applied": true,
	// fabric
	"sync_status": true, "last_git_sync": true, "desired_state_commit": true, "drift_status": true, "drift_count": true,
	"argocd_installed": true, "argocd_health_status": true, "gitops_setup_status": true,
}

// OnlyOwnFields reports whether an update changed nothing but fields the
// sidecar owns: its own write-back, echoed by NetBox's webhook. Such an
// event cannot change what is rendered, so it is not processed again:
// write-back never loops. Without both snapshots it returns false.
func OnlyOwnFields(p Payload) bool {
	if p.Event != EventUpdated || len(p.Snapshots) == 0 {
		return false
	}
	var snaps struct {
		Pre  map[string]json.RawMessage `json:"prechange"`
		Post map[string]json.RawMessage `json:"postchange"`
	}
	if err := json.Unmarshal(p.Snapshots, &snaps); err != nil || snaps.Pre == nil || snaps.Post == nil {
		return false
	}
	changed := false
	for k, v := range snaps.Post {
		if !ownedFields[k] && !sameJSON(snaps.Pre[k], v) {
			return false
		}
		if ownedFields[k] && k != "last_updated" && !sameJSON(snaps.Pre[k], v) {
			changed = true
		}
	}
	for k := range snaps.Pre {
		if _, ok := snaps.Post[k]; !ok && !ownedFields[k] {
			return false
		}
	}
	return changed
}

func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
