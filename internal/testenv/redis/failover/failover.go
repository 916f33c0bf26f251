// Package failover measures a Redis Sentinel failover under a stream of
// hints recorded through the real queue (internal/queue): what was
// accepted, refused and lost, and the accept latencies.
package failover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// Run is one measured failover: Writers goroutines record hints
// through the real queue (Enqueue, what the webhook receiver calls before
// its 202) for Before, the primary is killed with SIGKILL, the stream goes
// on while the sentinels promote the replica and for After once they
// have, then the old primary is restarted (it rejoins as a replica) and
// the stream goes on for After again.
type Run struct {
	Writers       int
	Before, After time.Duration
	// WaitReplicas and WaitTimeout are the queue's Options (0: no WAIT).
	WaitReplicas int
	WaitTimeout  time.Duration
}

// Result is what a Run measured. A hint is accepted when
// Enqueue returned nil (a 202), refused when it returned an error (a 503).
type Result struct {
	Accepted, Refused int
	// AcceptedBeforeKill, AcceptedDuringFailover (from the kill until the
	// killed primary is back as a replica: with one replica and WAIT 1
	// nothing can acknowledge then) and AcceptedAfter split Accepted.
	AcceptedBeforeKill, AcceptedDuringFailover, AcceptedAfter int
	// Lost are accepted hints that the surviving Redis does not have.
	Lost int
	// Promotion is the time from the kill until the sentinels named the new
	// primary; Rejoined until the restarted one was its replica.
	Promotion, Rejoined time.Duration
	// Steady are the accept latencies before the kill; All of every
	// accepted hint.
	SteadyP50, SteadyP99, AllP99 time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("accepted %d (before the kill %d, from the kill to the rejoin %d, after %d), refused %d, lost %d; "+
		"promotion %s, old primary back as replica %s; accept p50 %s p99 %s before the kill, p99 %s overall",
		r.Accepted, r.AcceptedBeforeKill, r.AcceptedDuringFailover, r.AcceptedAfter, r.Refused, r.Lost,
		r.Promotion.Round(time.Millisecond), r.Rejoined.Round(time.Millisecond),
		r.SteadyP50.Round(time.Microsecond), r.SteadyP99.Round(time.Microsecond), r.AllP99.Round(time.Microsecond))
}

type accepted struct {
	id      int64
	start   time.Time
	latency time.Duration
}

// Measure runs r against s. Its keys are under prefix.
func Measure(ctx context.Context, s *redisenv.SentinelSet, prefix string, r Run) (Result, error) {
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: redisenv.MasterName, SentinelAddrs: s.Sentinels,
		Password: s.Options().Password, SentinelPassword: s.Options().SentinelPassword, PoolSize: 2 * r.Writers,
		DialTimeout: 300 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second, MaxRetries: -1,
	})
	defer func() { _ = rdb.Close() }()
	opts := queue.DefaultOptions()
	opts.Prefix, opts.WaitReplicas = prefix, r.WaitReplicas
	if r.WaitTimeout > 0 {
		opts.WaitTimeout = r.WaitTimeout
	}
	q, err := queue.New(rdb, opts, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		return Result{}, err
	}
	old, err := s.Primary(ctx)
	if err != nil {
		return Result{}, err
	}

	var (
		next    atomic.Int64
		refused atomic.Int64
		mu      sync.Mutex
		got     []accepted
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for range r.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := next.Add(1)
				start := time.Now()
				cctx, cancel := context.WithTimeout(ctx, 2*time.Second) // the receiver's enqueue timeout, shorter
				_, err := q.Enqueue(cctx, queue.Hint{ObjectType: "netbox_hedgehog.vpc", ObjectID: id, Kind: "VPC", Event: "updated"})
				cancel()
				if err != nil {
					refused.Add(1)
					time.Sleep(10 * time.Millisecond) // NetBox's next webhook, not a busy loop
					continue
				}
				mu.Lock()
				got = append(got, accepted{id: id, start: start, latency: time.Since(start)})
				mu.Unlock()
			}
		}()
	}
	res, killed, err := kill(ctx, s, old, r)
	close(stop)
	wg.Wait()
	if err != nil {
		return res, err
	}
	res.Refused = int(refused.Load())
	return res, countLost(ctx, rdb, prefix, got, killed, &res)
}

// kill kills old after r.Before, waits for the promotion and r.After,
// restarts old, and waits r.After again. It returns the timings and when
// old was killed.
func kill(ctx context.Context, s *redisenv.SentinelSet, old *redisenv.Server, r Run) (Result, time.Time, error) {
	var res Result
	time.Sleep(r.Before)
	killed := time.Now()
	old.Kill()
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := s.WaitPromotion(pctx, old); err != nil {
		return res, killed, err
	}
	res.Promotion = time.Since(killed)
	time.Sleep(r.After)
	if _, err := s.Restart(pctx, old); err != nil {
		return res, killed, err
	}
	res.Rejoined = time.Since(killed)
	time.Sleep(r.After)
	return res, killed, nil
}

// countLost checks every accepted hint against the primary now and fills
// in the counts and latencies.
func countLost(ctx context.Context, rdb redis.UniversalClient, prefix string, got []accepted, killed time.Time, res *Result) error {
	ready := keyspace.Key(prefix, "q", "ready")
	var have map[string]bool
	var err error
	for try := 0; try < 50; try++ { // the client may still be finding the primary
		var keys []string
		if keys, err = rdb.ZRange(ctx, ready, 0, -1).Result(); err == nil {
			have = make(map[string]bool, len(keys))
			for _, k := range keys {
				have[k] = true
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("redisenv: reading the queue after the failover: %w", err)
	}
	var steady, all []time.Duration
	for _, a := range got {
		res.Accepted++
		all = append(all, a.latency)
		switch at := a.start.Sub(killed); {
		case at < 0:
			res.AcceptedBeforeKill++
			steady = append(steady, a.latency)
		case at < res.Rejoined:
			res.AcceptedDuringFailover++
		default:
			res.AcceptedAfter++
		}
		if !have["netbox_hedgehog.vpc:"+strconv.FormatInt(a.id, 10)] {
			res.Lost++
		}
	}
	res.SteadyP50, res.SteadyP99, res.AllP99 = quantile(steady, 0.5), quantile(steady, 0.99), quantile(all, 0.99)
	if res.Accepted == 0 {
		return errors.New("redisenv: no hint was accepted")
	}
	return nil
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[int(q*float64(len(d)-1))]
}
