package reconcile

import (
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	"github.com/githedgehog/hnp-sidecar/internal/render"
)

// Deletion only on evidence. A full reconcile reads the fabric's managed/
// files from Git first (snapshot), then NetBox's lists. A file whose
// object the lists lack leaves Git only when
//   - a delete webhook for that object is among the run's hints, or
//   - a read of that object by id answers 404 and a delete webhook of
//     another queue key named it (evidence_webhooks.go), or
//   - a read of that object by id answers 404 (evidence_probe.go), or
//   - that read shows the object in another fabric (moved), or
//   - the lists hold the object under another file (renamed, or a name
//     that cannot be a path).
// An object missing from a list but readable in this fabric (a list paged
// by offset while others created or deleted objects) is re-rendered from
// that read and its file stays. Files no NetBox object claims (no
// hnp.githedgehog.com/netbox-object annotation) are removed: managed/ is
// the sidecar's alone (DESIGN.md §5) and no NetBox answer can speak for
// them; they count, like 404s, against the mass deletion guard (guard.go).

// gitFile is the NetBox object a file in Git was rendered from.
type gitFile struct {
	kind kind.Kind
	id   int64
	ok   bool // the file names an object of a managed kind
}

func (g gitFile) String() string { return g.kind.Name + " " + strconv.FormatInt(g.id, 10) }

// snapshot is the fabric's managed/ directory at tip ("" for an empty
// branch), read before NetBox.
type snapshot struct {
	tip   string
	files map[string]gitFile
	// owned are the fabric's directories the run writes (managed/ and
	// .hnp/): gitops.Batch.Owned.
	owned []string
}

// since is the snapshot's tip as gitops.Batch.Since.
func (s snapshot) since() string {
	if s.tip == "" {
		return gitops.NoCommit
	}
	return s.tip
}

// ownerOf reads the netbox-object annotation of a rendered file.
func ownerOf(content []byte) gitFile {
	var doc struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if yaml.Unmarshal(content, &doc) != nil {
		return gitFile{}
	}
	ot, id, ok := strings.Cut(doc.Metadata.Annotations[render.AnnotationNetBoxObject], "/")
	if !ok {
		return gitFile{}
	}
	k, ok := kind.Lookup(ot)
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || k.IsFabric() || err != nil || n <= 0 || !strings.Contains(ot, ".") {
		return gitFile{}
	}
	return gitFile{kind: k, id: n, ok: true}
}

func newSnapshot(tip string, files map[string][]byte) snapshot {
	s := snapshot{tip: tip, files: make(map[string]gitFile, len(files))}
	for p, b := range files {
		s.files[p] = ownerOf(b)
	}
	return s
}

type objKey struct {
	objectType string
	id         int64
}

func keyOf(k kind.Kind, id int64) objKey { return objKey{k.ObjectType(), id} }

// removal is one file leaving Git and why.
type removal struct {
	path, why string
	// confirmed: a delete webhook, a rename or a move; else the removal
	// counts against the guard.
	confirmed bool
}

// evidence is what a run removes from the fabric's files in Git.
type evidence struct {
	files    int // in managed/ at the snapshot
	removals []removal
}

func (e evidence) unconfirmed() int {
	n := 0
	for _, rm := range e.removals {
		if !rm.confirmed {
			n++
		}
	}
	return n
}

// sample names a few unconfirmed removals for a message.
func (e evidence) sample() string {
	var out []string
	for _, rm := range e.removals {
		if !rm.confirmed && len(out) < 3 {
			out = append(out, rm.path+": "+rm.why)
		}
	}
	if n := e.unconfirmed(); n > len(out) {
		out = append(out, "…")
	}
	return strings.Join(out, "; ")
}

// changes are the removals as gitops deletions (nil Content).
func (e evidence) changes() []gitops.Change {
	out := make([]gitops.Change, 0, len(e.removals))
	for _, rm := range e.removals {
		out = append(out, gitops.Change{Path: rm.path})
	}
	return out
}

// candidates are the snapshot's files the plan does not write.
func candidates(s snapshot, changes []gitops.Change) []string {
	planned := make(map[string]bool, len(changes))
	for _, c := range changes {
		planned[c.Path] = true
	}
	var out []string
	for p := range s.files {
		if !planned[p] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func listedKeys(items []listed) map[objKey]bool {
	out := make(map[objKey]bool, len(items))
	for _, it := range items {
		out[keyOf(it.kind, it.obj.ID)] = true
	}
	return out
}

// deleteHinted: a delete webhook for g's object is among the hints.
func deleteHinted(hints []queue.Hint, g gitFile) bool {
	for _, h := range hints {
		if h.Event == "deleted" && h.ObjectID == g.id && (h.ObjectType == g.kind.ObjectType() || h.Kind == g.kind.Name) {
			return true
		}
	}
	return false
}

// classify decides each candidate with the probes' answers (evidence_probe.go)
// and the fabric's delete webhooks other keys carried (known, by queue key);
// a candidate with no evidence is kept.
func classify(s snapshot, changes []gitops.Change, items []listed, hints []queue.Hint, known map[queue.Key]bool,
	probes map[string]probed) evidence {
	ev := evidence{files: len(s.files)}
	listed := listedKeys(items)
	for _, p := range candidates(s, changes) {
		g := s.files[p]
		switch pr, has := probes[p]; {
		case !g.ok:
			ev.removals = append(ev.removals, removal{path: p, why: "no NetBox object claims it"})
		case listed[keyOf(g.kind, g.id)]:
			ev.removals = append(ev.removals, removal{path: p, why: g.String() + " is now another file", confirmed: true})
		case deleteHinted(hints, g):
			ev.removals = append(ev.removals, removal{path: p, why: g.String() + " deleted (webhook)", confirmed: true})
		case has && pr.gone && known[queue.NewKey(g.kind.ObjectType(), g.id)]:
			ev.removals = append(ev.removals, removal{path: p, why: g.String() + " deleted (webhook, answers 404)", confirmed: true})
		case has && pr.gone:
			ev.removals = append(ev.removals, removal{path: p, why: g.String() + " answers 404"})
		case has && pr.moved:
			ev.removals = append(ev.removals, removal{path: p, confirmed: true,
				why: g.String() + " moved to fabric " + strconv.FormatInt(pr.movedTo, 10)})
		}
	}
	return ev
}

// needProbe are the candidates only a read by id can decide.
func needProbe(s snapshot, changes []gitops.Change, items []listed, hints []queue.Hint) []string {
	listed := listedKeys(items)
	var out []string
	for _, p := range candidates(s, changes) {
		if g := s.files[p]; g.ok && !listed[keyOf(g.kind, g.id)] && !deleteHinted(hints, g) {
			out = append(out, p)
		}
	}
	return out
}
