package argocd

import (
	"context"
	"errors"
	"fmt"

	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// fenced is ctx under the fabric's lease fence when the Owner is a
// Fencer: the worker's state moves then fail with state.ErrFenced once
// the lease moved. errNotOwner when the Owner has no lease to fence with.
func (s *Syncer) fenced(ctx context.Context, fabric int64) (context.Context, error) {
	f, ok := s.opts.Owner.(Fencer)
	if !ok {
		return ctx, nil
	}
	fence, held := f.Fence(fabric)
	if !held {
		return ctx, errNotOwner
	}
	return state.WithFence(ctx, fence), nil
}

// mayAsk is checked right before every Sync request: the fabric is still
// this replica's (errNotOwner) and j is still its newest target in the
// store (errSuperseded), so a replica that lost the lease, or a target a
// newer commit replaced, never moves the Application back. A store error
// also stops the request (the target stays for a retry).
func (s *Syncer) mayAsk(ctx context.Context, j job) error {
	if !s.owns(ctx, j.t.Fabric) {
		return errNotOwner
	}
	seq, err := s.store.Seq(ctx, j.t.Fabric)
	switch {
	case err != nil:
		return err
	case seq != j.seq:
		return fmt.Errorf("%w: fabric %s: %s is seq %d, the store's is %d", errSuperseded, j.t.FabricName,
			state.ShortCommit(j.t.Commit), j.seq, seq)
	}
	return nil
}

// newer reports whether a newer target of the fabric is waiting here or
// was stored by any replica (or the fabric was forgotten).
func (s *Syncer) newer(ctx context.Context, j job) bool {
	s.mu.Lock()
	_, ok := s.want[j.t.Fabric]
	s.mu.Unlock()
	if ok {
		return true
	}
	seq, err := s.store.Seq(ctx, j.t.Fabric)
	return err == nil && seq != j.seq
}

// stopped: the fabric's work here ends without a failure (the lease
// moved, or a newer target replaced this one); the store keeps the
// target for whoever owns the fabric now.
func stopped(err error) bool {
	return errors.Is(err, errNotOwner) || errors.Is(err, errSuperseded) || errors.Is(err, state.ErrFenced)
}
