package argocd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

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
