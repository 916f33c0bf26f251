package failover

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/queue"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// Latency records n hints one after another through the real queue on s,
// waiting for waitReplicas acknowledgements each (0: none), and returns
// the p50 and p99 of the accepted Enqueues (the cost of WAIT without
// contention) and how many were refused (too few acknowledgements within
// waitTimeout).
func Latency(ctx context.Context, s *redisenv.SentinelSet, prefix string, n, waitReplicas int, waitTimeout time.Duration) (p50, p99 time.Duration, refused int, err error) {
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: redisenv.MasterName, SentinelAddrs: s.Sentinels,
		Password: s.Options().Password, SentinelPassword: s.Options().SentinelPassword})
	defer func() { _ = rdb.Close() }()
	opts := queue.DefaultOptions()
	opts.Prefix, opts.WaitReplicas, opts.WaitTimeout = prefix, waitReplicas, waitTimeout
	q, err := queue.New(rdb, opts, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		return 0, 0, 0, err
	}
	lat := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		_, err := q.Enqueue(ctx, queue.Hint{ObjectType: "netbox_hedgehog.vpc", ObjectID: int64(i + 1), Kind: "VPC", Event: "updated"})
		if errors.Is(err, queue.ErrNotReplicated) {
			refused++
			continue
		}
		if err != nil {
			return 0, 0, refused, err
		}
		lat = append(lat, time.Since(start))
	}
	return quantile(lat, 0.5), quantile(lat, 0.99), refused, nil
}
