package app

import (
	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/drift"
	"github.com/githedgehog/hnp-sidecar/internal/lease"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// leaseOwner is the fabric leases as the Argo CD syncer and drift
// detection see them: whether this replica owns a fabric, and the fence
// its state moves are recorded under.
type leaseOwner struct{ *lease.Manager }

// Fence is the held lease of fabric as a state fence.
func (o leaseOwner) Fence(fabric int64) (state.Fence, bool) {
	f, ok := o.HeldFence(fabric)
	return state.Fence{Fabric: fabric, Key: f.Key, Value: f.Value}, ok
}

// The syncer fences its state moves only when its Owner is a Fencer.
var (
	_ argocd.Owner  = leaseOwner{}
	_ argocd.Fencer = leaseOwner{}
	_ drift.Owner   = leaseOwner{}
)
