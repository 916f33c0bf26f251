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

// flushEnqueues runs the enqueue script of every call of a group in one
// pipeline (batch.go) and, with WaitReplicas set, WAIT on the same
// connection right after them: WAIT counts the replicas that have
// everything that connection wrote, so every hint of the group is among
// it. Each call gets its own reply or error.
func (q *Queue) flushEnqueues(ctx context.Context, group []*enqueueCall) {
	q.metrics.flushes.Inc()
	p, err := q.enqueuePipeline(ctx)
	if err != nil {
		for _, c := range group {
			c.err = err
		}
		return
	}
	todo := group
	for _, bySHA := range []bool{true, false} {
		todo = q.pipelineRound(ctx, p, todo, bySHA)
		if len(todo) == 0 {
			return
		}
	}
}

// pipelineRound sends the scripts (by SHA, or whole) and WAIT in one
// pipeline. It returns the calls Redis answered NOSCRIPT (its script cache
// was emptied by a restart or failover): not run, to send again whole.
func (q *Queue) pipelineRound(ctx context.Context, p redis.Pipeliner, group []*enqueueCall, bySHA bool) []*enqueueCall {
	cmds := make([]*redis.Cmd, len(group))
	for i, c := range group {
		if bySHA {
			cmds[i] = enqueueScript.EvalSha(ctx, p, c.keys, c.args...)
		} else {
			cmds[i] = enqueueScript.Eval(ctx, p, c.keys, c.args...)
		}
	}
	var wait *redis.Cmd
	if q.opts.WaitReplicas > 0 {
		wait = p.Do(ctx, "wait", q.opts.WaitReplicas, q.opts.WaitTimeout.Milliseconds())
	}
	_, _ = p.Exec(ctx) // each command keeps its own error
	var noScript []*enqueueCall
	var acked int64
	var waitErr error
	if wait != nil {
		if acked, waitErr = wait.Int64(); waitErr != nil {
			waitErr = fmt.Errorf("queue: wait for replicas: %w", waitErr)
		}
	}
	for i, c := range group {
		c.n, c.err = cmds[i].Int()
		switch {
		case bySHA && redis.HasErrorPrefix(c.err, "NOSCRIPT"):
			noScript = append(noScript, c)
		case c.err != nil || wait == nil:
		case waitErr != nil:
			c.err = waitErr
		case acked < int64(q.opts.WaitReplicas):
			q.metrics.unreplicated.Inc()
			c.err = fmt.Errorf("%w: %d of %d within %s", ErrNotReplicated, acked, q.opts.WaitReplicas, q.opts.WaitTimeout)
		}
	}
	return noScript
}

// enqueuePipeline is a pipeline for the enqueue scripts. With WAIT it runs
// on the primary that holds the queue's keys (batch.go's groups then share
// one connection): a plain or Sentinel client's pipeline runs on one
// connection; a Cluster client's would route WAIT (which has no key) to any
// node, so the pipeline runs on the client of the queue slot's primary.
func (q *Queue) enqueuePipeline(ctx context.Context) (redis.Pipeliner, error) {
	if cc, ok := q.rdb.(*redis.ClusterClient); ok && q.opts.WaitReplicas > 0 {
		c, err := cc.MasterForKey(ctx, q.keys.ready)
		if err != nil {
			return nil, fmt.Errorf("queue: primary of the queue's slot: %w", err)
		}
		return c.Pipeline(), nil
	}
	return q.rdb.Pipeline(), nil
}
