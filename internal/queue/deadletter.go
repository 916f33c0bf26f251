package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// DeadLetter is a key that failed MaxAttempts runs in a row. Its hints are
// kept; a replay or any new hint for the key queues it again.
type DeadLetter struct {
	Key      Key       `json:"key"`
	Error    string    `json:"error"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"dead_lettered_at"`
	// Hints are the hints waiting for the key, oldest first.
	Hints []Hint `json:"hints,omitempty"`
}

// DeadLetters lists the dead-lettered keys, oldest first.
func (q *Queue) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	all, err := q.rdb.HGetAll(ctx, q.keys.dead).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: list dead letters: %w", err)
	}
	out := make([]DeadLetter, 0, len(all))
	for k, v := range all {
		d := DeadLetter{Key: Key(k)}
		if err := json.Unmarshal([]byte(v), &d); err != nil {
			d.Error = "unreadable dead-letter record: " + err.Error()
		}
		raw, err := q.rdb.LRange(ctx, q.keys.hints(Key(k)), 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("queue: list dead letters: %w", err)
		}
		d.Hints, _ = decodeHints(raw)
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// Replay queues a dead-lettered key again with a fresh attempt count.
// It returns ErrNotFound when the key is not dead-lettered.
func (q *Queue) Replay(ctx context.Context, key Key) error {
	if _, _, err := ParseKey(string(key)); err != nil {
		return err
	}
	n, err := replayScript.Run(ctx, q.rdb, []string{q.keys.dead, q.keys.attempts, q.keys.ready},
		string(key), ms(q.now())).Int()
	if err != nil {
		return fmt.Errorf("queue: replay %s: %w", key, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: dead letter %s", ErrNotFound, key)
	}
	q.logger.Info("dead letter replayed", "key", string(key))
	q.notify(q.now())
	return nil
}

// Stats is a point-in-time view of the queue.
type Stats struct {
	// Waiting keys, due or backing off.
	Waiting int64 `json:"waiting"`
	// InFlight keys held by a worker.
	InFlight int64 `json:"in_flight"`
	// Dead keys in the dead-letter set.
	Dead int64 `json:"dead_letters"`
	// OldestDue is how long the most overdue waiting key has been due;
	// zero when nothing is overdue.
	OldestDue time.Duration `json:"oldest_due_ns"`
}

// Stats reads the queue's sizes from Redis.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	pipe := q.rdb.Pipeline()
	w := pipe.ZCard(ctx, q.keys.ready)
	f := pipe.ZCard(ctx, q.keys.inflight)
	d := pipe.HLen(ctx, q.keys.dead)
	o := pipe.ZRangeWithScores(ctx, q.keys.ready, 0, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		return Stats{}, fmt.Errorf("queue: stats: %w", err)
	}
	s := Stats{Waiting: w.Val(), InFlight: f.Val(), Dead: d.Val()}
	if z := o.Val(); len(z) == 1 {
		if late := q.now().Sub(time.UnixMilli(int64(z[0].Score))); late > 0 {
			s.OldestDue = late
		}
	}
	return s, nil
}
