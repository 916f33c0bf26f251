// Command failover measures what a Redis Sentinel failover costs the
// webhook path. A real Sentinel set (redis-server primary, replicas, three
// sentinels on 127.0.0.1) takes a stream of hints through the real queue
// (queue.Enqueue, what the webhook receiver calls before its 202); the
// primary is killed with SIGKILL, the sentinels promote a replica, the old
// primary is restarted and rejoins as a replica. Each scenario starts a
// fresh set and prints hints accepted (before, during and after the
// failover), refused (a 503), lost (accepted but gone from Redis), the
// promotion time and the accept latencies. Figures are printed, the only
// assertion is that nothing acknowledged by a replica is lost.
//
// First, one writer records hints one at a time without and with WAIT 1:
// the cost of the acknowledgement without contention.
//
//	go run ./test/bench/failover [-writers 16] [-before 5s] [-after 5s] [-wait-timeout 500ms] [-runs 1] [-latency-hints 3000]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/queue"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/redis/failover"
)

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func main() { os.Exit(run()) }

func run() int {
	writers := flag.Int("writers", 16, "concurrent webhook writers")
	before := flag.Duration("before", 5*time.Second, "stream before the kill")
	after := flag.Duration("after", 5*time.Second, "stream after the promotion, and again after the old primary rejoined")
	waitTimeout := flag.Duration("wait-timeout", queue.DefaultOptions().WaitTimeout, "HNP_REDIS_WAIT_TIMEOUT")
	runs := flag.Int("runs", 1, "failovers per scenario")
	latencyN := flag.Int("latency-hints", 3000, "hints recorded one at a time to measure WAIT's cost without contention")
	flag.Parse()
	if *writers < 1 || *runs < 1 || *before <= 0 || *after <= 0 {
		fmt.Fprintln(os.Stderr, "failover: -writers and -runs must be >= 1, -before and -after > 0")
		return 2
	}
	redis.SetLogger(quietLogger{}) // the pool's dial failures while the primary is down
	log.SetOutput(io.Discard)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bin, err := redisenv.Binary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		return 1
	}
	scenarios := []struct {
		name           string
		replicas, wait int
	}{
		{"1 replica, no WAIT (HNP_REDIS_WAIT_REPLICAS=0)", 1, 0},
		{"1 replica, WAIT 1", 1, 1},
		{"2 replicas, WAIT 1", 2, 1},
	}
	if err := latency(ctx, bin, *latencyN, *waitTimeout); err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		return 1
	}
	fmt.Printf("%d writers, %s before the kill, %s after the promotion and after the rejoin, WAIT timeout %s\n",
		*writers, *before, *after, *waitTimeout)
	failed := false
	for _, sc := range scenarios {
		for i := range *runs {
			res, err := once(ctx, bin, sc.replicas, failover.Run{Writers: *writers, Before: *before, After: *after,
				WaitReplicas: sc.wait, WaitTimeout: *waitTimeout})
			if err != nil {
				fmt.Fprintf(os.Stderr, "failover: %s: %v\n", sc.name, err)
				return 1
			}
			fmt.Printf("%-48s run %d: %s\n", sc.name, i+1, res)
			if sc.wait > 0 && res.Lost > 0 {
				failed = true
			}
		}
	}
	if failed {
		fmt.Fprintln(os.Stderr, "failover: a hint acknowledged by a replica was lost")
		return 1
	}
	return 0
}

// latency prints the accept latency of one writer on a set with one
// replica, without and with WAIT 1, alternating rounds so load drifts
// touch both alike.
func latency(ctx context.Context, bin string, n int, waitTimeout time.Duration) error {
	dir, err := os.MkdirTemp("", "hnp-failover-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	s, err := redisenv.RunSentinel(bin, dir, 1)
	if err != nil {
		return err
	}
	defer s.Stop()
	for round := range 3 {
		for _, wait := range []int{0, 1} {
			p50, p99, refused, err := failover.Latency(ctx, s, fmt.Sprintf("lat%d-%d", round, wait), n, wait, waitTimeout)
			if err != nil {
				return err
			}
			fmt.Printf("one writer, %d hints, WAIT %d: accept p50 %s p99 %s, refused %d\n",
				n, wait, p50.Round(time.Microsecond), p99.Round(time.Microsecond), refused)
		}
	}
	return nil
}

func once(ctx context.Context, bin string, replicas int, r failover.Run) (failover.Result, error) {
	dir, err := os.MkdirTemp("", "hnp-failover-")
	if err != nil {
		return failover.Result{}, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	s, err := redisenv.RunSentinel(bin, dir, replicas)
	if err != nil {
		return failover.Result{}, err
	}
	defer s.Stop()
	res, err := failover.Measure(ctx, s, "bench", r)
	if errors.Is(err, context.Canceled) {
		return res, errors.New("interrupted")
	}
	return res, err
}
