package state

import "context"

// Fence is a fabric lease as a state change checks it: Key must still
// hold Value in Redis, in the same script that records the change.
type Fence struct {
	Fabric     int64
	Key, Value string
}

type fenceKey struct{}

// WithFence makes every change of f.Fabric's records under ctx fenced: a
// change made after the lease moved to another replica fails with
// ErrFenced and records nothing. Changes of other fabrics are not fenced.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

func fenceFrom(ctx context.Context, fabric int64) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok && f.Fabric == fabric && f.Key != ""
}

// FenceOf is the fence WithFence put in ctx for fabric, if any: other
// stores of the fabric's writer (its snapshot) check the same lease.
func FenceOf(ctx context.Context, fabric int64) (Fence, bool) { return fenceFrom(ctx, fabric) }
