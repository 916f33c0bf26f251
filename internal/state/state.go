// Package state keeps each managed object's GitOps state in Redis: the six
// states of DESIGN.md §7, the transitions between them (checked against
// the table, atomically, with a bounded history) and per-fabric counts.
package state

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// State is where an object stands between NetBox and the cluster.
type State string

// The six states, as the plugin defines them.
const (
	Draft     State = "draft"     // changed in NetBox, not yet in Git (or invalid: reason recorded)
	Committed State = "committed" // in Git at Commit
	Pending   State = "pending"   // Argo CD asked to sync Commit
	Synced    State = "synced"    // Argo CD applied Commit and the live CR matches
	Drifted   State = "drifted"   // the live CR differs from Git
	Orphaned  State = "orphaned"  // in Git or the cluster, no longer in NetBox
)

// States lists every state, in the order of the lifecycle.
var States = []State{Draft, Committed, Pending, Synced, Drifted, Orphaned}

// Trigger names a transition (DESIGN.md §7) or a lifecycle event.
type Trigger string

// Triggers of the transition table.
const (
	CommitToGit         Trigger = "commit_to_git"
	UpdateDraft         Trigger = "update_draft"
	ApplyToCluster      Trigger = "apply_to_cluster"
	EditResource        Trigger = "edit_resource"
	ClusterSyncComplete Trigger = "cluster_sync_complete"
	DriftDetected       Trigger = "drift_detected"
	GitCommitDetected   Trigger = "git_commit_detected"
	DriftResolved       Trigger = "drift_resolved"
	ImportClusterState  Trigger = "import_cluster_state"
	ForceSyncToCluster  Trigger = "force_sync_to_cluster"
	ImportToGit         Trigger = "import_to_git"
	DeleteFromCluster   Trigger = "delete_from_cluster"
	SyncComplete        Trigger = "sync_complete"
	SyncFailed          Trigger = "sync_failed"
	SyncTimeout         Trigger = "sync_timeout"
)

// Lifecycle events: a record begins or ends. They are not transitions
// between two states, so the table does not list them.
const (
	// Observed begins a record: an object first seen in NetBox (draft),
	// found already in Git (committed), or a file left in Git by an object
	// NetBox no longer has (orphaned).
	Observed Trigger = "observed"
	// DeletedInNetBox ends the record of an object NetBox deleted; when its
	// file is in Git an orphaned record begins at once.
	DeletedInNetBox Trigger = "deleted_in_netbox"
	// RemovedFromGit ends an orphaned record: its file's removal is pushed.
	RemovedFromGit Trigger = "removed_from_git"
	// RemovedFromCluster ends the orphaned record of a CR found only in the
	// cluster (drift detection): it is no longer there.
	RemovedFromCluster Trigger = "removed_from_cluster"
)

type edge struct{ from, to State }

// transitions is DESIGN.md §7's table: each (from, to) has one trigger.
var transitions = map[edge]Trigger{
	{Draft, Committed}:    CommitToGit,
	{Draft, Draft}:        UpdateDraft,
	{Committed, Pending}:  ApplyToCluster,
	{Committed, Draft}:    EditResource,
	{Committed, Synced}:   ClusterSyncComplete,
	{Synced, Drifted}:     DriftDetected,
	{Synced, Draft}:       EditResource,
	{Synced, Pending}:     GitCommitDetected,
	{Drifted, Synced}:     DriftResolved,
	{Drifted, Committed}:  ImportClusterState,
	{Drifted, Pending}:    ForceSyncToCluster,
	{Drifted, Draft}:      EditResource,
	{Orphaned, Committed}: ImportToGit,
	{Orphaned, Pending}:   DeleteFromCluster,
	{Orphaned, Draft}:     EditResource,
	{Pending, Synced}:     SyncComplete,
	{Pending, Drifted}:    SyncFailed,
	{Pending, Committed}:  SyncTimeout,
}

// initial states a record may begin in.
var initial = map[State]bool{Draft: true, Committed: true, Orphaned: true}

// TriggerFor returns the table's trigger for from → to, or false when the
// table has no such transition.
func TriggerFor(from, to State) (Trigger, bool) {
	t, ok := transitions[edge{from, to}]
	return t, ok
}

// Errors of the state store.
var (
	// ErrIllegal: the transition is not in the table (counted).
	ErrIllegal = errors.New("state: illegal transition")
	// ErrConflict: the record was not in the state the caller expected;
	// someone else moved it first. Re-read and decide again.
	ErrConflict = errors.New("state: conflict")
	// ErrNotFound: no record for the key.
	ErrNotFound = errors.New("state: not found")
	// ErrFenced: the change was made under a fabric lease (WithFence) that
	// is no longer the writer's: another replica writes the fabric now.
	ErrFenced = errors.New("state: fenced: the fabric's lease moved to another replica")
	// ErrBadKey: a key part is empty or holds a '/'.
	ErrBadKey = errors.New("state: bad key")
)

// Key names one object: its fabric (NetBox id), kind, namespace and name.
type Key struct {
	Fabric    int64  `json:"fabric"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (k Key) field() string { return k.Kind + "/" + k.Namespace + "/" + k.Name }

func (k Key) String() string { return fmt.Sprintf("%d/%s", k.Fabric, k.field()) }

func (k Key) validate() error {
	for _, p := range []string{k.Kind, k.Namespace, k.Name} {
		if p == "" || strings.ContainsAny(p, "/\x00") {
			return fmt.Errorf("%w: %q", ErrBadKey, k.String())
		}
	}
	if k.Fabric <= 0 {
		return fmt.Errorf("%w: fabric %d", ErrBadKey, k.Fabric)
	}
	return nil
}

// Record is an object's current state.
type Record struct {
	Key
	FabricName string `json:"fabric_name,omitempty"`
	NetBoxID   int64  `json:"netbox_id,omitempty"`
	State      State  `json:"state"`
	Reason     string `json:"reason,omitempty"`
	// Commit is the commit the state refers to: the one holding the file
	// (committed, pending, synced) or removing it (orphaned, after push).
	Commit string `json:"commit,omitempty"`
	// Path is the file in the repository; Hash the rendered content's.
	Path      string    `json:"path,omitempty"`
	Hash      string    `json:"hash,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// CommittedAt is when the file was last pushed (or found) in Git.
	CommittedAt *time.Time `json:"committed_at,omitempty"`
	// ChangedAt is when NetBox made the oldest change of the object that
	// has not reached synced yet (cleared when it does): the start of
	// hnp_sync_latency_seconds, kept here so whichever replica sees the
	// sync measures it.
	ChangedAt *time.Time `json:"changed_at,omitempty"`
	History   []Entry    `json:"history,omitempty"`
	// Gone: the record ended (removed from Git); only its history is left.
	Gone bool `json:"gone,omitempty"`
}

// Entry is one transition (or lifecycle event) of a record.
type Entry struct {
	From    State     `json:"from,omitempty"`
	To      State     `json:"to,omitempty"`
	Trigger Trigger   `json:"trigger"`
	Reason  string    `json:"reason,omitempty"`
	Commit  string    `json:"commit,omitempty"`
	At      time.Time `json:"at"`
}

// ShortCommit is a commit id cut to 12 characters, for messages and tables.
func ShortCommit(sha string) string { return sha[:min(len(sha), 12)] }
