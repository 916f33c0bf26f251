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
	"argocd_installed": true, "argocd_health_status": true, "gitops_setup_status": true, "gitops_setup_error": true,
}

// OnlyOwnFields reports whether an update changed nothing but fields the
// sidecar owns: its own write-back, echoed by NetBox's webhook. Such an
// event cannot change what is rendered, so it is not processed again:
// write-back never loops. Without both snapshots it returns false.
//
// It scans the snapshots in place (scan.go) for the usual shape: lower-case
// ASCII keys, each once. Anything else takes the encoding/json decode
// (ownStd), whose case-insensitive and merging key rules decide it;
// FuzzOwnFastMatchesStd holds the two to the same answer.
func OnlyOwnFields(p Payload) bool {
	return p.Event == EventUpdated && json.Valid(p.Snapshots) && ownSnapshots(p.Snapshots)
}

// ownSnapshots is OnlyOwnFields of an update's snapshots, valid JSON (Parse
// checked the whole body).
func ownSnapshots(snapshots []byte) bool {
	if len(snapshots) == 0 {
		return false
	}
	if own, ok := ownFast(snapshots); ok {
		return own
	}
	return ownStd(snapshots)
}

// field is one member of a snapshot.
type field struct{ key, val []byte }

// ownFast decides OnlyOwnFields on valid JSON; ok is false when the
// snapshots' keys are not plain (see OnlyOwnFields).
func ownFast(snapshots []byte) (own, ok bool) {
	var pre, post []byte
	ok = true
	_ = eachField(snapshots, func(k, v []byte) {
		switch {
		case string(k) == "prechange" && pre == nil:
			pre = v
		case string(k) == "postchange" && post == nil:
			post = v
		case !plainKey(k) || bytes.EqualFold(k, []byte("prechange")) || bytes.EqualFold(k, []byte("postchange")):
			ok = false // a repeated or case-folded snapshot: encoding/json merges them
		}
	})
	if !ok {
		return false, false
	}
	if !isObject(pre) || !isObject(post) {
		return false, true // missing, null or not an object
	}
	var buf [2][32]field
	preFields, ok1 := fields(pre, buf[0][:0])
	postFields, ok2 := fields(post, buf[1][:0])
	if !ok1 || !ok2 {
		return false, false
	}
	changed := false
	for _, f := range postFields {
		owned := ownedFields[string(f.key)]
		if same := sameJSON(lookup(preFields, f.key), f.val); !same && !owned {
			return false, true
		} else if !same && string(f.key) != "last_updated" {
			changed = true
		}
	}
	for _, f := range preFields {
		if lookup(postFields, f.key) == nil && !ownedFields[string(f.key)] {
			return false, true
		}
	}
	return changed, true
}

// fields lists the members of the JSON object b; ok is false for a
// repeated or not plain key.
func fields(b []byte, out []field) ([]field, bool) {
	ok := true
	_ = eachField(b, func(k, v []byte) {
		if !ok || !plainKey(k) || lookup(out, k) != nil {
			ok = false
			return
		}
		out = append(out, field{key: k, val: v})
	})
	return out, ok
}

func lookup(fs []field, key []byte) []byte {
	for _, f := range fs {
		if bytes.Equal(f.key, key) {
			return f.val
		}
	}
	return nil
}

// plainKey: lower-case ASCII letters, digits, '_' and '-' only, the keys
// NetBox's serializers use; encoding/json matches them exactly.
func plainKey(k []byte) bool {
	for _, c := range k {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// ownStd is OnlyOwnFields by a plain encoding/json decode.
func ownStd(snapshots []byte) bool {
	var snaps struct {
		Pre  map[string]json.RawMessage `json:"prechange"`
		Post map[string]json.RawMessage `json:"postchange"`
	}
	if err := json.Unmarshal(snapshots, &snaps); err != nil || snaps.Pre == nil || snaps.Post == nil {
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
