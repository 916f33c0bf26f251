package reconcile

import "context"

type fenceKey struct{}

// WithFence returns ctx carrying fence: every Git push of a reconcile run
// with ctx calls it right before pushing (gitops.Batch.Fence), and an
// error aborts the push. A replica holding a fabric's lease passes a check
// of its fencing token, so a replica that lost the lease cannot push.
func WithFence(ctx context.Context, fence func(context.Context) error) context.Context {
	return context.WithValue(ctx, fenceKey{}, fence)
}

// fenceFrom is the fence WithFence put in ctx; nil when none.
func fenceFrom(ctx context.Context) func(context.Context) error {
	f, _ := ctx.Value(fenceKey{}).(func(context.Context) error)
	return f
}

// stillWriter is nil unless the run has a fence that refuses: the fabric's
// lease moved, and what the run would show (a problem, a write-back) is
// already old.
func stillWriter(ctx context.Context) error {
	if f := fenceFrom(ctx); f != nil {
		return f(ctx)
	}
	return nil
}
