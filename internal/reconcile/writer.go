package reconcile

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// patchKey is one object's patch: kind name and NetBox id.
type patchKey struct {
	kind string
	id   int64
}

// wbBatch is one fabric's pending write-back.
type wbBatch struct {
	fabric      int64
	name        string
	patches     map[patchKey]map[string]any
	lastUpdated map[patchKey]string // each object's last_updated as read
	// seen is every object the run listed, at its last_updated: a newer
	// run that saw an object and wants nothing written takes back an
	// older run's patch of it.
	seen map[patchKey]string
	// base is each run-planned object as that run read it; its patch is
	// then every write-back field's wanted value (not only those that
	// differed from the read), decided at send time against the newer of
	// base and the newest known version (toSend).
	base         map[patchKey]netbox.Object
	journal      []netbox.JournalEntry
	fabricFields map[string]any
	// show are objects whose state changed outside a run (Argo CD, drift):
	// read fresh from NetBox when the batch is written (show.go).
	show map[string]bool // state.Field of the record
	// fabricUpdated is the fabric's last_updated as read, for refusals.
	fabricUpdated string
	// undo takes back what was recorded as told when the journal entry
	// telling it is not written (refused.go).
	undo []func(context.Context)
	// failed: a write to NetBox failed (not refused): what this batch
	// showed is shown again later.
	failed bool
}

// merge folds a newer batch into b. A later run's decision on an object
// replaces an earlier one's whole unless the later run read an older
// version: a run that wants nothing written (NetBox held it all at its
// read) cancels an earlier run's pending patch (review of issue 17: a
// stale sync_error was written after the object turned valid). Patches
// without a run's read (states shown outside a run) add up, newer values
// winning. Journal entries add up (the same entry twice, from two runs
// that both saw NetBox's old value, is written once).
func (b *wbBatch) merge(n *wbBatch) {
	for k, lu := range n.seen {
		if _, patched := n.patches[k]; !patched && b.patches[k] != nil && !newer(b.lastUpdated[k], lu) {
			delete(b.patches, k)
			delete(b.lastUpdated, k)
			delete(b.base, k)
		}
	}
	for k, f := range n.patches {
		nb, fromRun := n.base[k]
		switch {
		case b.patches[k] == nil, fromRun && !newer(b.lastUpdated[k], n.lastUpdated[k]):
			b.patches[k] = maps.Clone(f)
			b.lastUpdated[k] = n.lastUpdated[k]
			delete(b.base, k)
			if fromRun {
				if b.base == nil {
					b.base = map[patchKey]netbox.Object{}
				}
				b.base[k] = nb
			}
		case fromRun:
			// n read an older version than b's patch was planned from: b's stays
		default:
			for name, v := range f {
				b.patches[k][name] = v
			}
			if !newer(b.lastUpdated[k], n.lastUpdated[k]) {
				b.lastUpdated[k] = n.lastUpdated[k]
			}
		}
	}
	have := map[netbox.JournalEntry]bool{}
	for _, e := range b.journal {
		have[e] = true
	}
	for _, e := range n.journal {
		if !have[e] {
			b.journal = append(b.journal, e)
		}
	}
	for name, v := range n.fabricFields {
		b.fabricFields[name] = v
	}
	for k := range n.show {
		if b.show == nil {
			b.show = map[string]bool{}
		}
		b.show[k] = true
	}
	if n.fabricUpdated != "" {
		b.fabricUpdated = n.fabricUpdated
	}
	b.undo = append(b.undo, n.undo...)
	if n.name != "" {
		b.name = n.name
	}
}

// writer writes batches to NetBox in the background, one fabric's newest
// values at a time, so a slow NetBox never holds up the next commit. A
// batch that waits is merged with the next one of its fabric.
type writer struct {
	r       *Reconciler
	mu      sync.Mutex
	running bool
	pending map[int64]*wbBatch
	wake    chan struct{}
	// versions are the objects' newest known versions (writeback_version.go).
	versions Versions
	patches  *prometheus.CounterVec
}

func newWriter(r *Reconciler) *writer {
	return &writer{r: r, pending: map[int64]*wbBatch{}, wake: make(chan struct{}, 1), versions: newMemVersions(),
		patches: newPatchCounter()}
}

// submit hands b to the background writer; false when it does not run.
func (w *writer) submit(b *wbBatch) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.running {
		return false
	}
	if p := w.pending[b.fabric]; p != nil {
		p.merge(b)
	} else {
		w.pending[b.fabric] = b
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// RunWriteBack writes NetBox write-backs in the background until ctx
// ends; without it, each reconcile writes its own before returning.
// Batches still waiting when ctx ends are dropped: the next reconcile
// compares again and writes the values (journal entries are lost).
func (r *Reconciler) RunWriteBack(ctx context.Context) {
	w := r.writer
	w.mu.Lock()
	w.running = true
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.running = false
		dropped := len(w.pending)
		w.pending = map[int64]*wbBatch{}
		w.mu.Unlock()
		if dropped > 0 {
			r.logger.Info("write-backs to NetBox dropped at shutdown; the next reconcile writes them", "fabrics", dropped)
		}
	}()
	r.showMarked(ctx)
	marked := time.NewTicker(time.Minute)
	defer marked.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-marked.C:
			r.showMarked(ctx) // what a write that failed, or a replica that died, left marked
			continue
		case <-w.wake:
		}
		for {
			w.mu.Lock()
			var b *wbBatch
			for id, p := range w.pending {
				b = p
				delete(w.pending, id)
				break
			}
			w.mu.Unlock()
			if b == nil || ctx.Err() != nil {
				break
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			w.write(wctx, b)
			cancel()
		}
	}
}

// write sends one batch: bulk PATCHes per kind, journal entries, the
// fabric. Failures are logged; the next reconcile compares and repairs
// (and shown states stay marked until written: show.go). Writes NetBox
// refuses because of the data are told once (refused.go). An object
// changed since the version sent (412) is re-read alone and written once
// more if it still needs it (writeback_send.go): never a reconcile.
func (w *writer) write(ctx context.Context, b *wbBatch) {
	shown := w.resolveShow(ctx, b)
	journal := w.sendPatches(ctx, b)
	w.journal(ctx, b, append(b.journal, journal...))
	w.writeFabric(ctx, b)
	w.showResources(ctx, b)
	w.shown(ctx, b, shown)
}
