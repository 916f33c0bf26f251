package queue

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Waiting returns the hints the queue holds for each of keys, oldest
// first: those of a run in flight and those not handed out yet. A full
// reconcile that pushes other objects' changes than its own key's reads
// their hints here, for when NetBox made each change. Undecodable hints
// are left out.
func (q *Queue) Waiting(ctx context.Context, keys []Key) (map[Key][]Hint, error) {
	out := make(map[Key][]Hint, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	pipe := q.rdb.Pipeline()
	cmds := make([][2]*redis.StringSliceCmd, len(keys))
	for i, k := range keys {
		cmds[i] = [2]*redis.StringSliceCmd{pipe.LRange(ctx, q.keys.proc(k), 0, -1), pipe.LRange(ctx, q.keys.hints(k), 0, -1)}
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("queue: waiting hints: %w", err)
	}
	for i, k := range keys {
		var raw []string
		for _, c := range cmds[i] {
			raw = append(raw, c.Val()...)
		}
		if hs, _ := decodeHints(raw); len(hs) > 0 {
			out[k] = hs
		}
	}
	return out, nil
}
