package reconcile

import (
	"context"
	"sync"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// A run computes an object's write-back against the object as it listed
// it. Runs overlap the background writer: a run that listed an object
// before the writer's PATCH of it landed wants the same values again, from
// a version NetBox no longer has (412). So the writer keeps, per object,
// the newest version it knows — NetBox's answer to its own PATCH (which
// carries the new last_updated), or a read by id — and decides each patch
// against the newer of that and the run's read: values NetBox already
// holds are not sent, and the ETag is the newest version's. An object is
// thus written at most once per change of its state.

// Versions keeps the newest known version of objects' write-back fields.
// The fabric's writer (the lease holder) keeps it; an entry only ever
// moves to a newer last_updated.
type Versions interface {
	// Newest returns the known versions of keys of fabric (absent: none).
	Newest(ctx context.Context, fabric int64, keys []patchKey) (map[patchKey]netbox.Object, error)
	// Saw records objs of fabric where they are newer than what is kept.
	Saw(ctx context.Context, fabric int64, objs map[patchKey]netbox.Object) error
}

// versionTTL is how long a known version is kept: far longer than a
// batch waits, far shorter than a fabric's life.
const versionTTL = time.Hour

// memVersions is Versions in the process: enough for one replica, and
// for several as long as a fabric's runs and writes stay on its lease
// holder (a new holder starts without versions: its first stale batch may
// meet a 412, which re-reads that object alone).
type memVersions struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[int64]map[patchKey]memVersion
}

type memVersion struct {
	obj netbox.Object
	at  time.Time
}

func newMemVersions() *memVersions {
	return &memVersions{now: time.Now, m: map[int64]map[patchKey]memVersion{}}
}

func (v *memVersions) Newest(_ context.Context, fabric int64, keys []patchKey) (map[patchKey]netbox.Object, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := map[patchKey]netbox.Object{}
	now := v.now()
	for _, k := range keys {
		if e, ok := v.m[fabric][k]; ok && now.Sub(e.at) < versionTTL {
			out[k] = e.obj
		}
	}
	return out, nil
}

func (v *memVersions) Saw(_ context.Context, fabric int64, objs map[patchKey]netbox.Object) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	f := v.m[fabric]
	if f == nil {
		f = map[patchKey]memVersion{}
		v.m[fabric] = f
	}
	for k, e := range f {
		if now.Sub(e.at) >= versionTTL {
			delete(f, k)
		}
	}
	for k, o := range objs {
		if e, ok := f[k]; ok && !newer(o.LastUpdated, e.obj.LastUpdated) {
			continue
		}
		f[k] = memVersion{obj: writtenFields(o), at: now}
	}
	return nil
}

// writtenFields is o reduced to what the write-back compares: its version
// and the fields the sidecar writes.
func writtenFields(o netbox.Object) netbox.Object {
	return netbox.Object{ID: o.ID, LastUpdated: o.LastUpdated, SyncError: o.SyncError, GitFilePath: o.GitFilePath,
		LastSynced: o.LastSynced, KubernetesStatus: o.KubernetesStatus}
}

// newer reports whether last_updated a is strictly after b; an unreadable
// a is never newer, an unreadable b is older than any readable a.
func newer(a, b string) bool {
	ta, err := time.Parse(time.RFC3339Nano, a)
	if err != nil {
		return false
	}
	tb, err := time.Parse(time.RFC3339Nano, b)
	return err != nil || ta.After(tb)
}

// toSend decides one object's write: want are the values a run computed
// against the object as it read it (version base); known is the newest
// version the writer knows (has). It returns the fields to send and the
// last_updated for If-Match; nil fields: NetBox already holds them all.
func toSend(want map[string]any, base string, known netbox.Object, has bool) (map[string]any, string) {
	if !has || newer(base, known.LastUpdated) {
		if len(want) == 0 {
			return nil, base
		}
		return want, base
	}
	send := map[string]any{}
	for name, v := range want {
		if !holds(known, name, v) {
			send[name] = v
		}
	}
	if len(send) == 0 {
		return nil, known.LastUpdated
	}
	return send, known.LastUpdated
}

// holds reports whether o already has value v in write-back field name.
func holds(o netbox.Object, name string, v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	switch name {
	case "sync_error":
		return o.SyncError == s
	case "git_file_path":
		return o.GitFilePath == s
	case "kubernetes_status":
		return o.KubernetesStatus == s
	case "last_synced":
		t, err := time.Parse(time.RFC3339Nano, s)
		return err == nil && sameTime(o.LastSynced, t)
	}
	return false
}
