package argocd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
)

// ErrStore: the syncer's record in Redis could not be read or written.
var ErrStore = errors.New("argocd: target store")

// saved is a fabric's wanted target as kept across restarts: the
// Application and the commit, the repository's URL only (its credentials
// are the sidecar's configuration, never written to Redis; see
// Options.RepoCredentials). Seq orders a fabric's targets.
type saved struct {
	Seq        int64     `json:"-"`
	Fabric     int64     `json:"fabric"`
	FabricName string    `json:"fabric_name"`
	App        App       `json:"app"`
	RepoURL    string    `json:"repo_url,omitempty"`
	Commit     string    `json:"commit"`
	At         time.Time `json:"at"`
}

// fabricFailure is a fabric whose last sync attempt failed (an outage), shown
// by every replica's health.
type fabricFailure struct {
	FabricName string    `json:"fabric_name"`
	Count      int       `json:"count"`
	Error      string    `json:"error"`
	At         time.Time `json:"at"`
}

// targetStore is where the syncer keeps what outlives one process: the
// targets not reached yet, each fabric's Application health and its
// failures in a row.
type targetStore interface {
	// Put records t as the fabric's target and returns its Seq.
	Put(ctx context.Context, t saved) (int64, error)
	// Pending are the targets not reached yet, by fabric.
	Pending(ctx context.Context) (map[int64]saved, error)
	// Done forgets the fabric's target if it is still the one of seq.
	Done(ctx context.Context, fabric, seq int64) error
	SetHealth(ctx context.Context, fabric int64, health string) error
	Health(ctx context.Context, fabric int64) (string, error)
	// Failed counts one more failure in a row; Succeeded ends the row.
	Failed(ctx context.Context, fabric int64, f fabricFailure) (int, error)
	Succeeded(ctx context.Context, fabric int64, at time.Time) error
	// Failing are the fabrics whose last attempt failed; last is the
	// latest success of any fabric (zero: none yet).
	Failing(ctx context.Context) (fabrics map[int64]fabricFailure, last time.Time, err error)
}

// redisTargets keeps the syncer's records under {prefix}:argocd:…, in
// the prefix's hash slot like every key of the sidecar.
type redisTargets struct {
	rdb                                              redis.UniversalClient
	targets, seqs, health, failures, fails, lastGood string
}

func newRedisTargets(rdb redis.UniversalClient, prefix string) *redisTargets {
	k := func(p string) string { return keyspace.Key(prefix, "argocd", p) }
	return &redisTargets{rdb: rdb, targets: k("targets"), seqs: k("seqs"), health: k("health"),
		failures: k("failures"), fails: k("failure-counts"), lastGood: k("last-success")}
}

// putTarget: KEYS targets, seqs; ARGV fabric, JSON → the target's seq.
var putTarget = redis.NewScript(`
local n = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return n`)

// doneTarget: KEYS targets, seqs; ARGV fabric, seq (0: whatever is there).
var doneTarget = redis.NewScript(`
if ARGV[2] == '0' or redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0`)

func field(fabric int64) string { return strconv.FormatInt(fabric, 10) }

func (r *redisTargets) Put(ctx context.Context, t saved) (int64, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return 0, fmt.Errorf("%w: encode: %w", ErrStore, err)
	}
	n, err := putTarget.Run(ctx, r.rdb, []string{r.targets, r.seqs}, field(t.Fabric), b).Int64()
	if err != nil {
		return 0, fmt.Errorf("%w: put fabric %d: %w", ErrStore, t.Fabric, err)
	}
	return n, nil
}

func (r *redisTargets) Pending(ctx context.Context) (map[int64]saved, error) {
	pipe := r.rdb.TxPipeline()
	all, seqs := pipe.HGetAll(ctx, r.targets), pipe.HGetAll(ctx, r.seqs)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("%w: pending: %w", ErrStore, err)
	}
	out := map[int64]saved{}
	for f, raw := range all.Val() {
		var t saved
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || json.Unmarshal([]byte(raw), &t) != nil || t.Fabric != id {
			continue // not ours to read; Put overwrites it
		}
		t.Seq, _ = strconv.ParseInt(seqs.Val()[f], 10, 64)
		out[id] = t
	}
	return out, nil
}

func (r *redisTargets) Done(ctx context.Context, fabric, seq int64) error {
	if err := doneTarget.Run(ctx, r.rdb, []string{r.targets, r.seqs}, field(fabric), strconv.FormatInt(seq, 10)).Err(); err != nil {
		return fmt.Errorf("%w: done fabric %d: %w", ErrStore, fabric, err)
	}
	return nil
}

func (r *redisTargets) SetHealth(ctx context.Context, fabric int64, h string) error {
	if err := r.rdb.HSet(ctx, r.health, field(fabric), h).Err(); err != nil {
		return fmt.Errorf("%w: health of fabric %d: %w", ErrStore, fabric, err)
	}
	return nil
}

func (r *redisTargets) Health(ctx context.Context, fabric int64) (string, error) {
	h, err := r.rdb.HGet(ctx, r.health, field(fabric)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: health of fabric %d: %w", ErrStore, fabric, err)
	}
	return h, nil
}

func (r *redisTargets) Failed(ctx context.Context, fabric int64, f fabricFailure) (int, error) {
	n, err := r.rdb.HIncrBy(ctx, r.fails, field(fabric), 1).Result()
	if err != nil {
		return 0, fmt.Errorf("%w: failure of fabric %d: %w", ErrStore, fabric, err)
	}
	f.Count = int(n)
	b, err := json.Marshal(f)
	if err != nil {
		return 0, fmt.Errorf("%w: encode: %w", ErrStore, err)
	}
	if err := r.rdb.HSet(ctx, r.failures, field(fabric), b).Err(); err != nil {
		return 0, fmt.Errorf("%w: failure of fabric %d: %w", ErrStore, fabric, err)
	}
	return f.Count, nil
}

func (r *redisTargets) Succeeded(ctx context.Context, fabric int64, at time.Time) error {
	pipe := r.rdb.TxPipeline()
	pipe.HDel(ctx, r.fails, field(fabric))
	pipe.HDel(ctx, r.failures, field(fabric))
	pipe.Set(ctx, r.lastGood, at.UTC().Format(time.RFC3339Nano), 0)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%w: success of fabric %d: %w", ErrStore, fabric, err)
	}
	return nil
}

func (r *redisTargets) Failing(ctx context.Context) (map[int64]fabricFailure, time.Time, error) {
	pipe := r.rdb.Pipeline()
	all, good := pipe.HGetAll(ctx, r.failures), pipe.Get(ctx, r.lastGood)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, time.Time{}, fmt.Errorf("%w: failures: %w", ErrStore, err)
	}
	out := map[int64]fabricFailure{}
	for f, raw := range all.Val() {
		var v fabricFailure
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || json.Unmarshal([]byte(raw), &v) != nil {
			continue
		}
		out[id] = v
	}
	last, _ := time.Parse(time.RFC3339Nano, good.Val())
	return out, last, nil
}
