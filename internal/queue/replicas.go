package queue

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated is returned by Enqueue when fewer than
// Options.WaitReplicas replicas acknowledged the hint in time. The hint is
// on the primary, but a failover now could lose it: the caller should say
// so (the webhook answers 503) rather than accept it.
var ErrNotReplicated = errors.New("queue: hint not acknowledged by enough replicas")

// runEnqueue runs the enqueue script and, with WaitReplicas set, WAIT on
// the same connection right after it: WAIT counts the replicas that have
// everything that connection wrote, so the hint is among it.
func (q *Queue) runEnqueue(ctx context.Context, keys []string, args ...any) (int, error) {
	if q.opts.WaitReplicas == 0 {
		return enqueueScript.Run(ctx, q.rdb, keys, args...).Int()
	}
	start := q.now()
	p, err := q.primaryPipeline(ctx, keys[0])
	if err != nil {
		return 0, err
	}
	n, acked, err := q.scriptAndWait(ctx, p, keys, args, true)
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		n, acked, err = q.scriptAndWait(ctx, p, keys, args, false)
	}
	q.metrics.replicaWait.Observe(q.now().Sub(start).Seconds())
	if err != nil {
		return 0, err
	}
	if acked < int64(q.opts.WaitReplicas) {
		q.metrics.unreplicated.Inc()
		return n, fmt.Errorf("%w: %d of %d within %s", ErrNotReplicated, acked, q.opts.WaitReplicas, q.opts.WaitTimeout)
	}
	return n, nil
}

// primaryPipeline is a pipeline on the primary that holds key. A plain or
// Sentinel client's pipeline runs on one connection; a Cluster client's
// would route WAIT (which has no key) to any node, so the pipeline runs on
// the client of key's primary.
func (q *Queue) primaryPipeline(ctx context.Context, key string) (redis.Pipeliner, error) {
	if cc, ok := q.rdb.(*redis.ClusterClient); ok {
		c, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("queue: primary of the queue's slot: %w", err)
		}
		return c.Pipeline(), nil
	}
	return q.rdb.Pipeline(), nil
}

// scriptAndWait sends the script (by SHA, or whole) and WAIT in one
// pipeline and returns the script's reply and the replicas that
// acknowledged.
func (q *Queue) scriptAndWait(ctx context.Context, p redis.Pipeliner, keys []string, args []any, bySHA bool) (int, int64, error) {
	var script *redis.Cmd
	if bySHA {
		script = enqueueScript.EvalSha(ctx, p, keys, args...)
	} else {
		script = enqueueScript.Eval(ctx, p, keys, args...)
	}
	wait := p.Do(ctx, "wait", q.opts.WaitReplicas, q.opts.WaitTimeout.Milliseconds())
	_, _ = p.Exec(ctx) // each command keeps its own error
	n, err := script.Int()
	if err != nil {
		return 0, 0, err
	}
	acked, err := wait.Int64()
	if err != nil {
		return n, 0, fmt.Errorf("queue: wait for replicas: %w", err)
	}
	return n, acked, nil
}
