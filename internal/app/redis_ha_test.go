package app

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// startAppOn runs the service on the Redis redisURL names, waiting for
// waitReplicas acknowledgements of each hint; every item handled goes to
// the returned channel.
func startAppOn(t *testing.T, redisURL, waitReplicas string, extra ...string) (*testApp, chan queue.Item) {
	t.Helper()
	vars := map[string]string{
		"HNP_REDIS_URL": redisURL, "HNP_REDIS_WAIT_REPLICAS": waitReplicas, "HNP_REDIS_WAIT_TIMEOUT": "200ms",
		"HNP_WEBHOOK_SECRET": testSecret, "HNP_API_TOKEN": testToken,
		"HNP_LISTEN_ADDR": "127.0.0.1:0", "HNP_QUEUE_COALESCE_WINDOW": "20ms", "HNP_QUEUE_POLL_INTERVAL": "50ms",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
	}
	cfg, err := config.LoadConfig(env(vars))
	require.NoError(t, err)
	seen := make(chan queue.Item, 100)
	logs := &syncBuffer{}
	a, err := New(cfg, slog.New(slog.NewJSONHandler(logs, nil)), queue.HandlerFunc(func(_ context.Context, it queue.Item) error {
		seen <- it
		return nil
	}))
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	ta := &testApp{App: a, url: "http://" + a.Addr(), logs: logs, seen: seen}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, a.Stop(ctx))
	})
	require.Eventually(t, func() bool { return get(t, ta.url+"/readyz", "").StatusCode == 200 }, 10*time.Second, 20*time.Millisecond)
	return ta, seen
}

func handled(t *testing.T, seen chan queue.Item) queue.Item {
	t.Helper()
	select {
	case it := <-seen:
		return it
	case <-time.After(10 * time.Second):
		t.Fatal("the accepted hint was not handled")
		return queue.Item{}
	}
}

// TestWebhooksOnSentinel: HNP_REDIS_URL names a real Sentinel set whose
// data nodes and sentinels have their own passwords
// (HNP_REDIS_SENTINEL_PASSWORD); with HNP_REDIS_WAIT_REPLICAS=1 a webhook
// is 202 while the replica acknowledges, and 503 once it is gone. Neither
// password is logged.
func TestWebhooksOnSentinel(t *testing.T) {
	s := redisenv.StartSentinelWith(t, redisenv.SentinelOptions{Replicas: 1, Password: "data-pw-7f3a", SentinelPassword: "sentinel-pw-91c2"})
	ta, seen := startAppOn(t, s.URL(), "1", "HNP_REDIS_SENTINEL_PASSWORD", "sentinel-pw-91c2")
	resp := postHook(t, ta, sampleBody(t), testSecret)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	handled(t, seen)

	s.Servers[1].Stop() // the only replica
	resp = postHook(t, ta, sampleBody(t), testSecret)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "no replica acknowledged the hint")
	require.NotContains(t, ta.logs.String(), "data-pw-7f3a")
	require.NotContains(t, ta.logs.String(), "sentinel-pw-91c2")
}

// TestWarnsOfTooFewReplicas: WAIT for a replica on a Redis without one
// is said at start, and every webhook is 503.
func TestWarnsOfTooFewReplicas(t *testing.T) {
	srv := redisenv.Start(t)
	ta, _ := startAppOn(t, srv.URL(), "1")
	require.Eventually(t, func() bool { return strings.Contains(ta.logs.String(), "fewer replicas than HNP_REDIS_WAIT_REPLICAS") },
		5*time.Second, 20*time.Millisecond)
	require.Equal(t, http.StatusServiceUnavailable, postHook(t, ta, sampleBody(t), testSecret).StatusCode)
}

// TestWebhooksOnCluster: HNP_REDIS_URL names a real Redis Cluster; the
// hint is recorded (WAIT on its slot's primary) and handled.
func TestWebhooksOnCluster(t *testing.T) {
	c := redisenv.StartCluster(t)
	ta, seen := startAppOn(t, c.URL(), "1")
	resp := postHook(t, ta, sampleBody(t), testSecret)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	handled(t, seen)
}

func TestRedisClientByURL(t *testing.T) {
	for _, tc := range []struct {
		url, want string
	}{
		{"redis://:pw@127.0.0.1:1/0", "127.0.0.1:1"},
		{"redis+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/m/2", "FailoverClient"},
		{"redis+cluster://:pw@127.0.0.1:1,127.0.0.1:2", "cluster"},
	} {
		c, err := redisClient(config.Config{RedisURL: config.Secret(tc.url)})
		require.NoError(t, err)
		switch rc := c.(type) {
		case *redis.ClusterClient:
			require.Equal(t, "cluster", tc.want)
			require.Equal(t, "pw", rc.Options().Password)
		case *redis.Client:
			require.Equal(t, tc.want, rc.Options().Addr)
			require.Equal(t, "pw", rc.Options().Password)
		}
		require.NoError(t, c.Close())
	}
	_, err := redisClient(config.Config{RedisURL: "redis+sentinel://:hunter2@nohost/m"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}
