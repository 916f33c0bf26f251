package reconcile

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// WriteBack is what the reconciler writes to NetBox so operators see each
// object's state where they work. NetBox answers every write with a
// webhook; the receiver recognises them (only sidecar-owned fields
// changed) and drops them, so write-back never loops.
type WriteBack interface {
	PatchObjects(ctx context.Context, k kind.Kind, patches []netbox.Patch) (netbox.PatchResult, error)
	PatchFabric(ctx context.Context, id int64, fields map[string]any) error
	AddJournalEntries(ctx context.Context, entries []netbox.JournalEntry) error
}

// writeBackChunk bounds one bulk request of journal entries, and how many
// objects are patched between checks of the context.
const writeBackChunk = 200

// listed is one object as NetBox served it.
type listed struct {
	kind kind.Kind
	obj  netbox.Object
}

// kubernetesStatus is the plugin's kubernetes_status for a state; "" leaves
// it as it is.
func kubernetesStatus(st state.State, invalid bool) string {
	switch {
	case invalid:
		return "error"
	case st == state.Committed, st == state.Pending:
		return "pending"
	case st == state.Synced:
		return "live"
	case st == state.Drifted:
		return "error"
	case st == state.Orphaned:
		return "deleting"
	}
	return ""
}

// outcome is what a run did, for the write-back.
type outcome struct {
	target  Target
	items   []listed
	t       *tracking // nil: no object is written back
	out     gitops.Result
	pushErr error
	invalid int
	// problem is the fabric's configuration problem ("" when none): it is
	// each object's sync_error, told once on the fabric, not per object.
	problem string
	journal []netbox.JournalEntry // entries on the fabric
	undo    func(context.Context) // when journal is not written
}

// writeBack shows the run's outcome in NetBox: each object's state fields
// and journal, and the fabric's sync fields. Only values that differ from
// what NetBox holds are written. The writes go to the background writer
// when it runs (so NetBox's speed never delays Git), else happen here.
func (r *Reconciler) writeBack(ctx context.Context, f netbox.Fabric, o outcome) {
	if r.wb == nil {
		return
	}
	var recs map[string]state.Record
	if r.states != nil {
		var err error
		if recs, err = r.states.Load(ctx, f.ID); err != nil {
			r.logger.Warn("write-back to NetBox skipped", "fabric", f.Name, "err", err)
			return
		}
	}
	b := r.writeBackBatch(f, o, recs)
	if !r.writer.submit(b) {
		r.writer.write(ctx, b)
	}
}

// writeBackBatch is what NetBox must be told after a run.
func (r *Reconciler) writeBackBatch(f netbox.Fabric, o outcome, recs map[string]state.Record) *wbBatch {
	b := &wbBatch{fabric: f.ID, name: f.Name, patches: map[patchKey]map[string]any{}, lastUpdated: map[patchKey]string{},
		seen: map[patchKey]string{}, base: map[patchKey]netbox.Object{}, fabricUpdated: f.LastUpdated}
	if o.undo != nil {
		b.undo = append(b.undo, o.undo)
	}
	journal := append([]netbox.JournalEntry(nil), o.journal...)
	link := commitLink(o.target.URL, o.out.Commit)
	byState := map[state.State]int{}
	for _, rec := range recs {
		byState[rec.State]++
	}
	var objects []*tracked
	if o.t != nil {
		objects = o.t.objects
	}
	for i, ob := range objects {
		it := o.items[i]
		b.seen[patchKey{it.kind.Name, ob.id}] = it.obj.LastUpdated
		rec, has := recs[state.Field(ob.key.Kind, ob.key.Namespace, ob.key.Name)]
		_, syncErr := objectFields(rec, has, ob.reason, it.obj)
		if syncErr != "" && o.problem == "" {
			journal = append(journal, netbox.JournalEntry{Kind: it.kind, ObjectID: ob.id, Level: netbox.JournalWarning,
				Comments: "hnp-sidecar: not in Git: " + syncErr})
		}
		if want := wanted(rec, has, ob.reason); len(want) > 0 {
			k := patchKey{it.kind.Name, ob.id}
			b.patches[k], b.lastUpdated[k], b.base[k] = want, it.obj.LastUpdated, it.obj
		}
		if ob.pushing && o.pushErr == nil {
			journal = append(journal, netbox.JournalEntry{Kind: it.kind, ObjectID: ob.id, Level: netbox.JournalSuccess,
				Comments: fmt.Sprintf("hnp-sidecar: in Git at commit %s%s (`%s`, branch %s)", o.out.Commit, link, ob.path, o.target.Branch)})
		}
	}
	b.journal = journal
	b.fabricFields = fabricFields(f, o.out, o.pushErr)
	for k, v := range r.stateFields(f, o.pushErr, o.invalid, byState) {
		b.fabricFields[k] = v
	}
	return b
}

// objectFields are an object's state fields (rec, when has) that differ
// from what NetBox holds (obj); reason is why the run did not write it
// (""). newError is its sync_error when that changed to a non-empty one.
func objectFields(rec state.Record, has bool, reason string, obj netbox.Object) (fields map[string]any, newError string) {
	fields = map[string]any{}
	syncErr := reason
	if syncErr == "" && has && rec.State == state.Draft {
		syncErr = rec.Reason
	}
	if syncErr != obj.SyncError {
		fields["sync_error"] = syncErr
		newError = syncErr
	}
	if has && fileIn(rec) && rec.Path != "" && rec.Path != obj.GitFilePath {
		fields["git_file_path"] = rec.Path
	}
	if has && rec.CommittedAt != nil && !sameTime(obj.LastSynced, *rec.CommittedAt) {
		fields["last_synced"] = rec.CommittedAt.UTC().Format(time.RFC3339Nano)
	}
	if ks := kubernetesStatus(rec.State, reason != ""); has && ks != "" && ks != obj.KubernetesStatus {
		fields["kubernetes_status"] = ks
	}
	return fields, newError
}

// unheld is an object whose write-back fields hold no value a state can
// want: objectFields against it gives every field's wanted value.
var unheld = netbox.Object{SyncError: "\x00", GitFilePath: "\x00", KubernetesStatus: "\x00"}

// wanted is every write-back field's value for rec (when has) and the
// run's reason not to write the object; which of them NetBox lacks is
// decided when they are sent (toSend).
func wanted(rec state.Record, has bool, reason string) map[string]any {
	f, _ := objectFields(rec, has, reason, unheld)
	return f
}

// fabricFields are the fabric's Git fields that differ from NetBox's.
func fabricFields(f netbox.Fabric, out gitops.Result, pushErr error) map[string]any {
	fields := map[string]any{}
	if pushErr == nil {
		if out.Commit != f.DesiredStateCommit {
			fields["desired_state_commit"] = out.Commit
		}
		if out.Committed || f.LastGitSync == "" {
			fields["last_git_sync"] = time.Now().UTC().Format(time.RFC3339Nano)
		}
	}
	return fields
}

// stateFields are the fabric's state fields that differ from NetBox's:
// sync_status from the push and its objects' states (byState), drift,
// and Argo CD's health.
func (r *Reconciler) stateFields(f netbox.Fabric, pushErr error, invalid int, byState map[state.State]int) map[string]any {
	fields := map[string]any{}
	drifted, pending := byState[state.Drifted], byState[state.Pending]
	// The plugin's model also lists out_of_sync, but the July-2025
	// database refuses it (DESIGN.md §4): out of sync is "error" too.
	status := netbox.SyncStatusInSync
	switch {
	case pushErr != nil, invalid > 0, drifted > 0:
		status = netbox.SyncStatusError
	case pending > 0:
		status = netbox.SyncStatusSyncing
	}
	if status != f.SyncStatus {
		fields["sync_status"] = status
	}
	driftStatus := netbox.DriftStatusInSync
	if drifted > 0 {
		driftStatus = netbox.DriftStatusDetected
	}
	if driftStatus != f.DriftStatus {
		fields["drift_status"] = driftStatus
	}
	if drifted != f.DriftCount {
		fields["drift_count"] = drifted
	}
	if r.deployer != nil {
		if h := netbox.ArgocdHealthStatus(r.deployer.Health(f.ID)); h != "" && h != f.ArgocdHealthStatus {
			fields["argocd_health_status"] = h
		}
	}
	return fields
}

// sameTime compares NetBox's rendering of a time with t, to the second.
func sameTime(netboxValue string, t time.Time) bool {
	v, err := time.Parse(time.RFC3339Nano, netboxValue)
	return err == nil && v.Truncate(time.Second).Equal(t.Truncate(time.Second))
}

// commitLink is " (<url>)" for repositories on hosts with a known commit
// page layout, else "". Credentials in the URL never reach NetBox.
func commitLink(repo, sha string) string {
	u, err := url.Parse(repo)
	if err != nil || sha == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	u.User = nil
	path := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")
	switch {
	case u.Host == "github.com", strings.HasPrefix(u.Host, "gitlab."), u.Host == "bitbucket.org":
		sep := "/commit/"
		if strings.HasPrefix(u.Host, "gitlab.") {
			sep = "/-/commit/"
		} else if u.Host == "bitbucket.org" {
			sep = "/commits/"
		}
		return " (" + u.Scheme + "://" + u.Host + path + sep + sha + ")"
	}
	return ""
}
