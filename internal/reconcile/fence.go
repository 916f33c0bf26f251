package reconcile

import "context"

type fenceKey struct{}

// WithFence makes every push of a run under ctx call check first (the
// fabric lease's Check): a run whose lease moved pushes nothing.
func WithFence(ctx context.Context, check func(context.Context) error) context.Context {
	return context.WithValue(ctx, fenceKey{}, check)
}

// fenceFrom is the run's fence, nil when it has none.
func fenceFrom(ctx context.Context) func(context.Context) error {
	f, _ := ctx.Value(fenceKey{}).(func(context.Context) error)
	return f
}
