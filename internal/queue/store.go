package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
	"github.com/redis/go-redis/v9"
)

// ErrNotFound is returned when a dead letter does not exist.
var ErrNotFound = errors.New("queue: not found")

// EnqueueResult says what an accepted hint did to the queue.
type EnqueueResult string

// Enqueue outcomes.
const (
	Queued    EnqueueResult = "queued"    // the key now waits to run
	Coalesced EnqueueResult = "coalesced" // the key was already waiting
	Deferred  EnqueueResult = "deferred"  // the key is running; it runs once more after
)

// keys names the Redis keys of one queue.
type keys struct {
	pfx                                                    string
	ready, inflight, leases, dirty, attempts, errors, dead string
}

func newKeys(prefix string) keys {
	p := keyspace.Key(prefix, "q", "")
	return keys{
		pfx: p, ready: p + "ready", inflight: p + "inflight", leases: p + "leases",
		dirty: p + "dirty", attempts: p + "attempts", errors: p + "errors", dead: p + "dead",
	}
}

func (k keys) hints(key Key) string { return k.pfx + "hints:" + string(key) }
func (k keys) proc(key Key) string  { return k.pfx + "proc:" + string(key) }

func ms(t time.Time) int64 { return t.UnixMilli() }

// Enqueue durably records a hint. When it returns nil the hint is in Redis
// and will be handled even if this process dies now; with
// Options.WaitReplicas, also on that many replicas, so a failover keeps
// it. ErrNotReplicated: recorded on the primary only. A delete hint is
// first recorded as its fabric's delete evidence (deleted.go); WAIT covers
// it too (it counts the primary's replication offset, which is past it).
func (q *Queue) Enqueue(ctx context.Context, h Hint) (EnqueueResult, error) {
	if _, _, err := ParseKey(string(h.Key())); err != nil {
		return "", err
	}
	if h.ReceivedAt.IsZero() {
		h.ReceivedAt = q.now()
	}
	body, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("queue: encode hint: %w", err)
	}
	k := h.Key()
	if err := q.recordDelete(ctx, h); err != nil { // deleted.go
		return "", err
	}
	due := ms(q.now().Add(q.opts.CoalesceWindow))
	start := q.now()
	n, err := q.batch.do(ctx, &enqueueCall{ // batch.go: one pipeline with the hints arriving meanwhile
		keys: []string{q.keys.ready, q.keys.inflight, q.keys.dirty, q.keys.hints(k), q.keys.dead, q.keys.attempts},
		args: []any{string(k), body, due, q.opts.MaxHintsPerKey},
	})
	if q.opts.WaitReplicas > 0 {
		q.metrics.replicaWait.Observe(q.now().Sub(start).Seconds())
	}
	if err != nil && !errors.Is(err, ErrNotReplicated) {
		return "", fmt.Errorf("queue: enqueue %s: %w", k, err)
	}
	if n < 0 || n > 2 {
		return "", fmt.Errorf("queue: enqueue %s: unexpected reply %d", k, n)
	}
	res := [...]EnqueueResult{Queued, Coalesced, Deferred}[n]
	q.metrics.hints.WithLabelValues(string(res)).Inc()
	if res == Queued {
		q.notify(time.UnixMilli(due))
	}
	if err != nil { // recorded on the primary, so it is worked on, but not safe from a failover
		return res, fmt.Errorf("queue: enqueue %s: %w", k, err)
	}
	return res, nil
}

// claim takes up to limit due keys under a lease held by token. It also
// returns when the next waiting key is due (zero if none).
func (q *Queue) claim(ctx context.Context, limit int, token string) ([]Item, time.Time, error) {
	now := q.now()
	res, err := claimScript.Run(ctx, q.rdb,
		[]string{q.keys.ready, q.keys.inflight, q.keys.leases, q.keys.attempts},
		ms(now), limit, ms(now.Add(q.opts.Lease)), token, q.keys.pfx).Slice()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("queue: claim: %w", err)
	}
	var next time.Time
	if d, _ := res[0].(int64); d >= 0 {
		next = time.UnixMilli(d)
	}
	items := make([]Item, 0, len(res)-1)
	for _, r := range res[1:] {
		row, _ := r.([]any)
		if len(row) != 3 {
			return nil, next, fmt.Errorf("queue: claim: unexpected reply %v", r)
		}
		key, _ := row[0].(string)
		attempts, _ := strconv.Atoi(fmt.Sprint(row[1]))
		raw := make([]string, 0)
		if l, ok := row[2].([]any); ok {
			for _, v := range l {
				s, _ := v.(string)
				raw = append(raw, s)
			}
		}
		hints, err := decodeHints(raw)
		if err != nil {
			q.logger.Warn("undecodable hints skipped", "key", key, "err", err)
		}
		items = append(items, Item{Key: Key(key), Hints: hints, Attempt: attempts + 1})
	}
	return items, next, nil
}

// ack ends a successful run. It reports false when the lease had been lost.
func (q *Queue) ack(ctx context.Context, key Key, token string) (bool, error) {
	n, err := ackScript.Run(ctx, q.rdb,
		[]string{q.keys.inflight, q.keys.leases, q.keys.dirty, q.keys.ready, q.keys.attempts, q.keys.errors, q.keys.proc(key)},
		string(key), token, ms(q.now().Add(q.opts.CoalesceWindow))).Int()
	if err != nil {
		return false, fmt.Errorf("queue: ack %s: %w", key, err)
	}
	return n >= 0, nil
}

// releaseResult says where a released key went.
type releaseResult int

const (
	notHeld      releaseResult = -1
	requeued     releaseResult = 1
	deadLettered releaseResult = 2
)

// release ends an unsuccessful run: the key waits until due; a counted
// failure that reaches MaxAttempts dead-letters it. token "" is the reaper,
// which takes the key only if its lease ended before now.
func (q *Queue) release(ctx context.Context, key Key, token string, due time.Time, count bool, attempt int, cause string) (releaseResult, error) {
	rec, err := json.Marshal(DeadLetter{Key: key, Error: cause, Attempts: attempt, At: q.now().UTC()})
	if err != nil {
		return notHeld, fmt.Errorf("queue: encode dead letter: %w", err)
	}
	countArg := "0"
	if count {
		countArg = "1"
	}
	n, err := releaseScript.Run(ctx, q.rdb,
		[]string{q.keys.inflight, q.keys.leases, q.keys.dirty, q.keys.ready, q.keys.attempts, q.keys.errors,
			q.keys.proc(key), q.keys.hints(key), q.keys.dead},
		string(key), token, ms(due), countArg, q.opts.MaxAttempts, rec, cause, ms(q.now()), q.opts.MaxHintsPerKey).Int()
	if err != nil {
		return notHeld, fmt.Errorf("queue: release %s: %w", key, err)
	}
	return releaseResult(n), nil
}

// extend renews the leases this process holds; tokens maps key → token.
func (q *Queue) extend(ctx context.Context, tokens map[Key]string) error {
	if len(tokens) == 0 {
		return nil
	}
	args := make([]any, 0, 1+2*len(tokens))
	args = append(args, ms(q.now().Add(q.opts.Lease)))
	for k, t := range tokens {
		args = append(args, string(k), t)
	}
	if err := extendScript.Run(ctx, q.rdb, []string{q.keys.inflight, q.keys.leases}, args...).Err(); err != nil {
		return fmt.Errorf("queue: extend leases: %w", err)
	}
	return nil
}

// reap gives keys whose lease expired — their worker died or stalled — back
// to the queue. Each such run counts as a failed attempt, so an object that
// crashes the process every time ends in the dead-letter set.
func (q *Queue) reap(ctx context.Context) (int, error) {
	expired, err := q.rdb.ZRangeByScore(ctx, q.keys.inflight, &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(ms(q.now()), 10), Count: 100,
	}).Result()
	if err != nil {
		return 0, fmt.Errorf("queue: reap: %w", err)
	}
	n := 0
	for _, k := range expired {
		attempts, _ := q.rdb.HGet(ctx, q.keys.attempts, k).Int()
		res, err := q.release(ctx, Key(k), "", q.now(), true, attempts+1, "lease expired: worker died or stalled")
		if err != nil {
			return n, err
		}
		if res != notHeld {
			n++
			q.metrics.reclaimed.Inc()
			q.observeRelease(res)
			q.logger.Warn("reclaimed expired lease", "key", k, "result", res.String())
		}
	}
	if n > 0 {
		q.notify(q.now())
	}
	return n, nil
}

func (r releaseResult) String() string {
	switch r {
	case requeued:
		return "retry"
	case deadLettered:
		return "dead_letter"
	default:
		return "lease_lost"
	}
}
