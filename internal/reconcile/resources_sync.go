package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// resourceConcurrency is how many HedgehogResource writes of one fabric
// are in flight (a first full run creates one per object).
const resourceConcurrency = 4

// resourceRun is one fabric's HedgehogResource write.
type resourceRun struct {
	mu      sync.Mutex // guards set, del, failed, unprime
	s       *resources
	fabric  int64
	set     map[string]state.Mirror
	del     []string
	failed  []string // record fields whose write failed (not refused): shown again later
	unprime bool     // NetBox holds one the mirror does not know: list again next time
}

// mirrorLockTTL bounds how long one replica writes a fabric's
// HedgehogResources (a first full run creates one per object, 4 at a
// time); mirrorLockWait is how long another waits for it.
const (
	mirrorLockTTL  = 5 * time.Minute
	mirrorLockWait = 30 * time.Second
)

// markAllShown marks every record of fabric to be shown again (the
// writer's minute tick), when its HedgehogResources could not be written.
func (r *Reconciler) markAllShown(ctx context.Context, fabric int64) {
	mk, ok := r.states.(Marks)
	if !ok {
		return
	}
	recs, err := r.states.Load(ctx, fabric)
	if err != nil || len(recs) == 0 {
		return
	}
	fields := make([]string, 0, len(recs))
	for f := range recs {
		fields = append(fields, f)
	}
	_ = mk.MarkShow(ctx, fabric, fields...)
}

// showResources writes fabric's HedgehogResources after its other
// write-backs: each record's against the mirror, only what changed.
func (w *writer) showResources(ctx context.Context, b *wbBatch) {
	r := w.r
	m, ok := r.states.(ResourceMirror)
	if r.res == nil || !ok || !r.res.usable() {
		return
	}
	// One replica at a time, and the records loaded under the lock: the
	// newest states are what lands last.
	release, locked, err := m.LockMirror(ctx, b.fabric, mirrorLockTTL, mirrorLockWait)
	if err != nil || !locked {
		r.logger.Warn("HedgehogResources not written: another replica writes them still; shown again later", "fabric_id", b.fabric, "err", err)
		r.markAllShown(ctx, b.fabric)
		return
	}
	defer release(context.WithoutCancel(ctx))
	recs, err := r.states.Load(ctx, b.fabric)
	if err != nil {
		r.logger.Warn("HedgehogResources not written; tried again later", "fabric_id", b.fabric, "err", err)
		return
	}
	mir, primed, err := m.Mirrored(ctx, b.fabric)
	if err != nil {
		r.logger.Warn("HedgehogResources not written; tried again later", "fabric_id", b.fabric, "err", err)
		return
	}
	replace := false
	if !primed {
		if mir, err = r.res.prime(ctx, b.fabric, recs); err != nil {
			if !errors.Is(err, netbox.ErrNotFound) {
				r.logger.Warn("HedgehogResources not listed; tried again later", "fabric_id", b.fabric, "err", err)
				b.failed = true
			}
			return
		}
		replace = true
	}
	run := &resourceRun{s: r.res, fabric: b.fabric, set: map[string]state.Mirror{}}
	if replace {
		for f, e := range mir {
			run.set[f] = e
		}
	}
	run.apply(ctx, recs, mir, r.res.objectTypes(ctx))
	if err := m.SetMirrored(ctx, b.fabric, run.set, run.del, !run.unprime, replace); err != nil {
		r.logger.Warn("HedgehogResource mirror not saved; rebuilt from NetBox's list", "fabric_id", b.fabric, "err", err)
	}
	if len(run.failed) > 0 {
		b.failed = true
		if mk, ok := r.states.(Marks); ok {
			_ = mk.MarkShow(ctx, b.fabric, run.failed...) // the writer's minute tick shows them again
		}
	}
}

// apply creates, patches and deletes against mir.
func (run *resourceRun) apply(ctx context.Context, recs map[string]state.Record, mir map[string]state.Mirror, types map[string]int64) {
	sem := make(chan struct{}, resourceConcurrency)
	var wg sync.WaitGroup
	for field, rec := range recs {
		if ctx.Err() != nil {
			break
		}
		want := resourceFields(run.fabric, rec, types)
		if rec.Gone || rec.State == "" || len(fieldsChanged(want, mir[field].Fields)) == 0 {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(field string, have state.Mirror) {
			defer func() { <-sem; wg.Done() }()
			run.write(ctx, field, want, have)
		}(field, mir[field])
	}
	wg.Wait()
	for field, e := range mir {
		if rec, has := recs[field]; (has && !rec.Gone) || ctx.Err() != nil {
			continue
		}
		if e.ID > 0 {
			if err := run.s.c.DeleteResource(ctx, e.ID); err != nil {
				run.s.logger.Warn("HedgehogResource not deleted; tried again later", "fabric_id", run.fabric, "resource", field, "err", err)
				run.unprime = true
				continue
			}
		}
		run.del = append(run.del, field)
		delete(run.set, field)
	}
}

// write brings one record's HedgehogResource to want.
func (run *resourceRun) write(ctx context.Context, field string, want map[string]any, have state.Mirror) {
	diff := fieldsChanged(want, have.Fields)
	if len(diff) == 0 {
		return // as written, or refused with these values
	}
	if have.ID > 0 {
		err := run.s.c.PatchResource(ctx, have.ID, diff)
		if err == nil {
			run.record(field, state.Mirror{ID: have.ID, Fields: want})
			return
		}
		if !errors.Is(err, netbox.ErrNotFound) {
			run.mu.Lock()
			run.failLocked(field, want, have.ID, err)
			run.mu.Unlock()
			return
		}
		// deleted in NetBox meanwhile: created again
	}
	res, err := run.s.c.CreateResource(ctx, want)
	if err != nil {
		run.mu.Lock()
		defer run.mu.Unlock()
		switch {
		case netbox.Refused(err) && strings.Contains(err.Error(), "unique"):
			run.unprime = true // one exists the mirror does not know (another replica, a restore): listed next time
			run.failed = append(run.failed, field)
		case errors.Is(err, netbox.ErrNotFound):
			run.s.set(ResourcesOff)
			run.unprime = true
		default:
			run.failLocked(field, want, 0, err)
		}
		return
	}
	run.record(field, state.Mirror{ID: res.ID, Fields: want})
}

// record keeps a write that landed: the feature is on (whichever replica
// primed the mirror) and a refusal of this record is over.
func (run *resourceRun) record(field string, m state.Mirror) {
	run.s.set(ResourcesOn)
	run.s.refusal(run.fabric, field, nil)
	run.mu.Lock()
	defer run.mu.Unlock()
	run.set[field] = m
}

// fail records a write that did not land: refused (the data: not sent
// again with the same values) or failed (sent again later).
func (run *resourceRun) failLocked(field string, want map[string]any, id int64, err error) {
	if netbox.Refused(err) {
		run.s.logger.Warn("NetBox refused a HedgehogResource", "fabric_id", run.fabric, "resource", field, "err", err)
		run.s.refusal(run.fabric, field, err)
		run.set[field] = state.Mirror{ID: id, Fields: want, Refused: true}
		return
	}
	run.s.logger.Warn("HedgehogResource not written; tried again later", "fabric_id", run.fabric, "resource", field, "err", err)
	run.failed = append(run.failed, field)
}

// fieldsChanged are the fields of want whose values differ from have's (as JSON:
// a mirror read back from Redis has float64 numbers).
func fieldsChanged(want, have map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range want {
		hv, ok := have[k]
		if !ok || !sameJSON(v, hv) {
			out[k] = v
		}
	}
	return out
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
