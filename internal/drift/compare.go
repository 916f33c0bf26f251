package drift

import (
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/render"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

func asObject(o map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: o}
}

func namespaceOf(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

// orphanReason is the reason of a CR found only in the cluster.
const orphanReason = "in the cluster, not in NetBox or Git (reported; the sidecar never deletes it)"

// compare fills rep and returns the state changes: synced → drifted when
// the live spec differs (or the CR is missing), drifted → synced when it
// matches again, an orphaned record for each live CR nothing else knows,
// and the end of such a record when the CR is gone.
func (d *Detector) compare(rep *Report, f netbox.Fabric, want map[string]map[string]any,
	live map[string]*unstructured.Unstructured, recs map[string]state.Record, schemas map[string]map[string]any) []state.Change {
	var changes []state.Change
	for fld, o := range want {
		rec, ok := recs[fld]
		if !ok || (rec.State != state.Synced && rec.State != state.Drifted) {
			continue
		}
		rep.Compared++
		u := asObject(o)
		var diffs []Difference
		if l := live[fld]; l == nil {
			diffs = []Difference{{Path: u.GetKind() + "/" + u.GetName(), Git: "present"}}
		} else {
			spec := ApplyDefaults(deepCopy(o["spec"]), schemas[u.GetKind()])
			diffs = Diff("spec", spec, l.Object["spec"])
		}
		item := Item{Kind: rec.Kind, Namespace: rec.Namespace, Name: rec.Name, State: rec.State, Diff: diffs}
		switch {
		case len(diffs) > 0 && rec.State == state.Synced:
			reason := Summary(diffs, d.opts.ReasonDiffs)
			if live[fld] == nil {
				reason = "not in the cluster"
			}
			// At the compared commit: the Argo CD syncer leaves a drifted
			// object alone until a newer commit (whose sync re-applies it).
			changes = append(changes, state.Change{Key: rec.Key, To: state.Drifted, Expect: state.Synced, Reason: reason,
				Commit: rep.Commit})
			item.State = state.Drifted
			rep.NewlyDrifted++
		case len(diffs) == 0 && rec.State == state.Drifted:
			changes = append(changes, state.Change{Key: rec.Key, To: state.Synced, Expect: state.Drifted,
				Reason: "", Commit: rep.Commit})
			rep.Resolved++
			continue
		case len(diffs) == 0:
			continue
		}
		rep.Drifted = append(rep.Drifted, item)
	}
	for fld, l := range live {
		if _, ok := want[fld]; ok {
			continue
		}
		if fab := l.GetAnnotations()[render.AnnotationFabric]; fab != "" && fab != f.Name {
			continue // another fabric's, sharing this cluster
		}
		rec, ok := recs[fld]
		item := Item{Kind: l.GetKind(), Namespace: namespaceOf(l.GetNamespace()), Name: l.GetName(), State: state.Orphaned}
		if ok {
			if rec.State == state.Orphaned {
				rep.Orphans = append(rep.Orphans, item)
			}
			continue // NetBox has it (not yet in Git) or its removal is on its way
		}
		changes = append(changes, state.Change{
			Key: state.Key{Fabric: f.ID, Kind: item.Kind, Namespace: item.Namespace, Name: item.Name},
			To:  state.Orphaned, Expect: state.None, FabricName: f.Name, Reason: orphanReason})
		rep.Orphans = append(rep.Orphans, item)
	}
	for fld, rec := range recs {
		if rec.State == state.Orphaned && rec.Path == "" && live[fld] == nil {
			changes = append(changes, state.Change{Key: rec.Key, End: true, Trigger: state.RemovedFromCluster,
				Expect: state.Orphaned, Reason: "no longer in the cluster"})
		}
	}
	sortItems(rep.Drifted)
	sortItems(rep.Orphans)
	return changes
}

func sortItems(items []Item) {
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}
