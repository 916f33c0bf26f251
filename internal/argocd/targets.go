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

// errSuperseded: a newer target of the fabric is stored (or it was
// forgotten): the older one is neither stored nor synced.
var errSuperseded = errors.New("argocd: a newer target of the fabric is stored")

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
	// Put records t as the fabric's target and returns its Seq. With
	// ifNewer (a target whose first Put failed, offered again) it is
	// stored only when no target recorded later (by At) was ever put for
	// the fabric, else errSuperseded.
	Put(ctx context.Context, t saved, ifNewer bool) (int64, error)
	// Seq is the Seq of the fabric's latest target (0: none, or forgotten).
	Seq(ctx context.Context, fabric int64) (int64, error)
	// Pending are the targets not reached yet, by fabric.
	Pending(ctx context.Context) (map[int64]saved, error)
	// Done forgets the fabric's target if it is still the one of seq
	// (never with seq 0).
	Done(ctx context.Context, fabric, seq int64) error
	// Forget removes every record of the fabric (deleted in NetBox).
	Forget(ctx context.Context, fabric int64) error
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
	rdb                                                     redis.UniversalClient
	targets, seqs, putAt, health, failures, fails, lastGood string
}

func newRedisTargets(rdb redis.UniversalClient, prefix string) *redisTargets {
	k := func(p string) string { return keyspace.Key(prefix, "argocd", p) }
	return &redisTargets{rdb: rdb, targets: k("targets"), seqs: k("seqs"), putAt: k("put-at"), health: k("health"),
		failures: k("failures"), fails: k("failure-counts"), lastGood: k("last-success")}
}

// putTarget: KEYS targets, seqs, put-at; ARGV fabric, JSON, At (unix ms),
// ifNewer ('1') → the target's seq, 0 when ifNewer and a target put
// later (even one reached since) was recorded.
var putTarget = redis.NewScript(`
if ARGV[4] == '1' and tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') >= tonumber(ARGV[3]) then
  return 0
end
local n = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return n`)

// doneTarget: KEYS targets, seqs; ARGV fabric, seq.
var doneTarget = redis.NewScript(`
if ARGV[2] ~= '0' and redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0`)

func field(fabric int64) string { return strconv.FormatInt(fabric, 10) }

func (r *redisTargets) Put(ctx context.Context, t saved, ifNewer bool) (int64, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return 0, fmt.Errorf("%w: encode: %w", ErrStore, err)
	}
	cond := "0"
	if ifNewer {
		cond = "1"
	}
	n, err := putTarget.Run(ctx, r.rdb, []string{r.targets, r.seqs, r.putAt}, field(t.Fabric), b,
		t.At.UnixMilli(), cond).Int64()
	switch {
	case err != nil:
		return 0, fmt.Errorf("%w: put fabric %d: %w", ErrStore, t.Fabric, err)
	case n == 0:
		return 0, fmt.Errorf("%w: fabric %d, commit %s", errSuperseded, t.Fabric, t.Commit)
	}
	return n, nil
}

func (r *redisTargets) Seq(ctx context.Context, fabric int64) (int64, error) {
	n, err := r.rdb.HGet(ctx, r.seqs, field(fabric)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%w: seq of fabric %d: %w", ErrStore, fabric, err)
	}
	return n, nil
}

func (r *redisTargets) Forget(ctx context.Context, fabric int64) error {
	pipe := r.rdb.TxPipeline()
	for _, h := range []string{r.targets, r.seqs, r.putAt, r.health, r.failures, r.fails} {
		pipe.HDel(ctx, h, field(fabric))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%w: forget fabric %d: %w", ErrStore, fabric, err)
	}
	return nil
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
