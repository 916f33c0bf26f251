package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// probeWorkers bounds the reads by id one run makes at once.
const probeWorkers = 8

// probed is what a read by id said of a file's object.
type probed struct {
	gone    bool // 404
	moved   bool // now in another fabric (movedTo; 0: none)
	movedTo int64
	// found: readable in this fabric though the lists lacked it.
	found *listed
}

// probe reads the objects of paths by id. Any answer other than 200 or
// 404 fails the run (nothing is removed on a guess); a 403 is the
// fabric's configuration problem.
func (r *Reconciler) probe(ctx context.Context, f netbox.Fabric, s snapshot, paths []string) (map[string]probed, error) {
	out := make(map[string]probed, len(paths))
	var mu sync.Mutex
	var first error
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(probeWorkers, len(paths)) {
		wg.Go(func() {
			for p := range work {
				pr, err := r.probeOne(ctx, f, s.files[p])
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				out[p] = pr
				mu.Unlock()
			}
		})
	}
	for _, p := range paths {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		work <- p
	}
	close(work)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return out, first
}

func (r *Reconciler) probeOne(ctx context.Context, f netbox.Fabric, g gitFile) (probed, error) {
	o, err := r.nb.GetObject(ctx, g.kind, g.id)
	switch ae := netbox.AsAPIError(err); {
	case errors.Is(err, netbox.ErrNotFound):
		return probed{gone: true}, nil
	case netbox.Refused(err):
		return probed{}, configError(f, err, "the sidecar's NetBox user cannot read %s objects: HTTP %d: %s", g.kind.Name, ae.Status, ae.Answer())
	case err != nil:
		return probed{}, fmt.Errorf("reconcile: fabric %s: read %s: %w", f.Name, g, err)
	case o.ID != g.id:
		return probed{}, fmt.Errorf("reconcile: fabric %s: read %s: NetBox answered object %d", f.Name, g, o.ID)
	case int64(o.Fabric) != f.ID:
		return probed{moved: true, movedTo: int64(o.Fabric)}, nil
	}
	return probed{found: &listed{kind: g.kind, obj: o}}, nil
}
