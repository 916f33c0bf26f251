package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/render"
)

// ErrCannotRead: the Git writer cannot read files back.
var ErrCannotRead = errors.New("reconcile: the Git writer cannot read files")

// gitReader is a Git that reads back what is committed.
type gitReader interface {
	Files(ctx context.Context, url, branch, dir string) (string, map[string][]byte, error)
}

// Committed returns a fabric as NetBox has it, the tip of its branch and
// its CR files (managed/), fetched now: what the cluster should hold.
func (r *Reconciler) Committed(ctx context.Context, fabric int64) (netbox.Fabric, string, map[string][]byte, error) {
	g, ok := r.git.(gitReader)
	if !ok {
		return netbox.Fabric{}, "", nil, ErrCannotRead
	}
	f, err := r.nb.GetFabric(ctx, fabric)
	if err != nil {
		return f, "", nil, fmt.Errorf("reconcile: fabric %d: %w", fabric, err)
	}
	t, err := r.target(ctx, f)
	if err != nil {
		return f, "", nil, err
	}
	managed, err := render.ManagedDir(t.Root)
	if err != nil {
		return f, "", nil, fmt.Errorf("reconcile: fabric %s: %w", f.Name, err)
	}
	commit, files, err := g.Files(ctx, t.URL, t.Branch, managed)
	if err != nil {
		return f, "", nil, fmt.Errorf("reconcile: fabric %s: %w", f.Name, err)
	}
	return f, commit, files, nil
}
