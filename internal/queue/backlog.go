package queue

import (
	"context"
	"fmt"
)

// Backlog is how many keys wait (due or not) or run, over all replicas:
// a bulk change shows as a deep backlog.
func (q *Queue) Backlog(ctx context.Context) (int64, error) {
	pipe := q.rdb.Pipeline()
	ready := pipe.ZCard(ctx, q.keys.ready)
	inflight := pipe.ZCard(ctx, q.keys.inflight)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("queue: backlog: %w", err)
	}
	return ready.Val() + inflight.Val(), nil
}
