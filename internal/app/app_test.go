package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
	"github.com/githedgehog/hnp-sidecar/internal/webhook"
)

const (
	testSecret = "webhook-secret-for-tests"
	testToken  = "api-token-for-tests-0123"
)

// syncBuffer collects the service's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testApp struct {
	*App
	url  string
	logs *syncBuffer
	seen chan queue.Item
}

func startApp(t *testing.T, srv *redisenv.Server, handler func(context.Context, queue.Item) error) *testApp {
	t.Helper()
	cfg, err := config.LoadConfig(env(map[string]string{
		"HNP_REDIS_URL": srv.URL(), "HNP_WEBHOOK_SECRET": testSecret, "HNP_API_TOKEN": testToken,
		"HNP_LISTEN_ADDR": "127.0.0.1:0", "HNP_LOG_LEVEL": "debug", "HNP_QUEUE_COALESCE_WINDOW": "20ms",
		"HNP_QUEUE_BACKOFF_BASE": "10ms", "HNP_QUEUE_BACKOFF_MAX": "20ms", "HNP_QUEUE_MAX_ATTEMPTS": "2",
		"HNP_QUEUE_POLL_INTERVAL": "50ms",
	}))
	require.NoError(t, err)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ta := &testApp{logs: logs, seen: make(chan queue.Item, 100)}
	h := queue.HandlerFunc(func(ctx context.Context, it queue.Item) error {
		defer func() { ta.seen <- it }()
		if handler != nil {
			return handler(ctx, it)
		}
		return queue.LogHandler(logger).Handle(ctx, it)
	})
	a, err := New(cfg, logger, h)
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	ta.App, ta.url = a, "http://"+a.Addr()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, a.Stop(ctx))
	})
	require.Eventually(t, func() bool { return get(t, ta.url+"/readyz", "").StatusCode == 200 }, 5*time.Second, 10*time.Millisecond)
	return ta
}

func do(t *testing.T, method, url, token string, body []byte, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

func get(t *testing.T, url, token string) *http.Response {
	return do(t, http.MethodGet, url, token, nil)
}

func decode(t *testing.T, r *http.Response, v any) {
	t.Helper()
	require.NoError(t, json.NewDecoder(r.Body).Decode(v))
}

func postHook(t *testing.T, ta *testApp, body []byte, secret string) *http.Response {
	t.Helper()
	return do(t, http.MethodPost, ta.url+"/webhooks/netbox", "", body,
		"Content-Type", "application/json", webhook.SignatureHeader, webhook.Sign([]byte(secret), body))
}

func sampleBody(t *testing.T) []byte {
	b, err := os.ReadFile("../../webhooks/samples/netbox-4.7/updated.json")
	require.NoError(t, err)
	return b
}

func waiting(t *testing.T, ta *testApp) int64 {
	s, err := ta.stores.queue.Stats(context.Background())
	require.NoError(t, err)
	return s.Waiting + s.InFlight
}

func TestMain(m *testing.M) {
	redis.SetLogger(&logging.VoidLogger{}) // tests stop Redis on purpose
	os.Exit(m.Run())
}

func TestServiceAnswersWebhooks(t *testing.T) {
	srv := redisenv.Start(t)
	ta := startApp(t, srv, func(context.Context, queue.Item) error { time.Sleep(time.Hour); return nil })
	ta.stopWorkers() // keep what is queued visible
	body := sampleBody(t)

	r := postHook(t, ta, body, testSecret)
	require.Equal(t, 202, r.StatusCode)
	require.Equal(t, int64(1), waiting(t, ta))

	r = postHook(t, ta, body, "wrong-secret")
	require.Equal(t, 401, r.StatusCode)
	r = do(t, http.MethodPost, ta.url+"/webhooks/netbox", "", body)
	require.Equal(t, 401, r.StatusCode)

	big := bytes.Repeat([]byte("x"), 2<<20)
	r = postHook(t, ta, big, testSecret)
	require.Equal(t, 413, r.StatusCode)

	r = postHook(t, ta, []byte("{"), testSecret)
	require.Equal(t, 400, r.StatusCode)
	var e map[string]string
	decode(t, r, &e)
	require.Contains(t, e["error"], "malformed payload")

	other := []byte(`{"event":"updated","object_type":"dcim.device","data":{"id":5}}`)
	r = postHook(t, ta, other, testSecret)
	require.Equal(t, 202, r.StatusCode)
	decode(t, r, &e)
	require.Equal(t, "dcim.device", e["ignored"])

	require.Equal(t, int64(1), waiting(t, ta), "only the signed, managed webhook was queued")
	metrics := get(t, ta.url+"/metrics", "")
	text, _ := io.ReadAll(metrics.Body)
	for _, line := range []string{
		`hnp_webhooks_received_total{result="accepted"} 1`,
		`hnp_webhooks_received_total{result="unauthorized"} 2`,
		`hnp_webhooks_received_total{result="too_large"} 1`,
		`hnp_webhooks_received_total{result="malformed"} 1`,
		`hnp_webhooks_received_total{result="ignored"} 1`,
		`hnp_queue_depth{state="waiting"} 1`,
	} {
		require.Contains(t, string(text), line)
	}
}

func TestServiceProcessesAcceptedHint(t *testing.T) {
	srv := redisenv.Start(t)
	ta := startApp(t, srv, nil)
	r := postHook(t, ta, sampleBody(t), testSecret)
	require.Equal(t, 202, r.StatusCode)
	select {
	case it := <-ta.seen:
		require.Equal(t, queue.Key("netbox_hedgehog.vpc:4"), it.Key)
		h, _ := it.Latest()
		require.Equal(t, "hnp-sidecar", h.User)
	case <-time.After(5 * time.Second):
		t.Fatal("hint not processed")
	}
	require.Eventually(t, func() bool { return strings.Contains(ta.logs.String(), `"msg":"processed"`) }, time.Second, 10*time.Millisecond)
}

func TestProbesAndHealth(t *testing.T) {
	srv := redisenv.Start(t)
	ta := startApp(t, srv, nil)
	require.Equal(t, 200, get(t, ta.url+"/livez", "").StatusCode)
	require.Equal(t, 200, get(t, ta.url+"/readyz", "").StatusCode)
	var h api.HealthResponse
	r := get(t, ta.url+"/api/v1/health", testToken)
	require.Equal(t, 200, r.StatusCode)
	decode(t, r, &h)
	require.Equal(t, "ok", string(h.Status))
	require.Contains(t, h.Components, "webhook_receiver")
	require.Contains(t, h.Components, "queue")
	require.Equal(t, true, h.Components["queue"].Details["workers_running"])
	for _, off := range []string{"netbox", "fabrics", "leases", "netbox_visibility", "drift", "argocd", "kubernetes"} {
		require.Equal(t, "disabled", string(h.Components[off].Status), "%s is configured off: listed as disabled, not absent", off)
		require.NotEmpty(t, h.Components[off].Details["reason"], off)
	}
	var anon api.HealthResponse
	decode(t, get(t, ta.url+"/api/v1/health", ""), &anon)
	require.Equal(t, "ok", string(anon.Components["queue"].Status), "statuses for everyone")
	require.Nil(t, anon.Components["queue"].Details, "details only with credentials")
	require.Equal(t, "disabled", string(anon.Components["argocd"].Status))
	require.Nil(t, anon.Components["argocd"].Details)

	srv.Stop() // Redis gone: not ready, queue down, webhooks 503, process alive
	require.Equal(t, 200, get(t, ta.url+"/livez", "").StatusCode)
	require.Equal(t, 503, get(t, ta.url+"/readyz", "").StatusCode)
	r = get(t, ta.url+"/api/v1/health", "")
	require.Equal(t, 503, r.StatusCode)
	decode(t, r, &h)
	require.Equal(t, "down", string(h.Components["queue"].Status))
	require.Equal(t, 503, postHook(t, ta, sampleBody(t), testSecret).StatusCode)
	m := get(t, ta.url+"/metrics", "")
	require.Equal(t, 200, m.StatusCode, "metrics stay scrapable while Redis is down")
	text, _ := io.ReadAll(m.Body)
	require.Contains(t, string(text), `hnp_webhooks_received_total{result="unavailable"} 1`)
}

func TestDeadLetterAPI(t *testing.T) {
	srv := redisenv.Start(t)
	fail := make(chan bool, 10)
	fail <- true
	fail <- true
	ta := startApp(t, srv, func(context.Context, queue.Item) error {
		if <-fail {
			return io.ErrUnexpectedEOF
		}
		return nil
	})
	require.Equal(t, 202, postHook(t, ta, sampleBody(t), testSecret).StatusCode)
	<-ta.seen
	<-ta.seen

	require.Equal(t, 401, get(t, ta.url+"/api/v1/deadletters", "").StatusCode)
	require.Equal(t, 401, get(t, ta.url+"/api/v1/deadletters", "wrong-token-0123456789").StatusCode)
	var list struct {
		Count int                `json:"count"`
		Items []queue.DeadLetter `json:"items"`
	}
	require.Eventually(t, func() bool {
		decode(t, get(t, ta.url+"/api/v1/deadletters", testToken), &list)
		return list.Count == 1
	}, 3*time.Second, 20*time.Millisecond)
	require.Equal(t, queue.Key("netbox_hedgehog.vpc:4"), list.Items[0].Key)
	require.Equal(t, "unexpected EOF", list.Items[0].Error)

	replay := ta.url + "/api/v1/deadletters/netbox_hedgehog.vpc:4/replay"
	require.Equal(t, 401, do(t, http.MethodPost, replay, "", nil).StatusCode)
	require.Equal(t, 400, do(t, http.MethodPost, ta.url+"/api/v1/deadletters/bogus/replay", testToken, nil).StatusCode)
	require.Equal(t, 404, do(t, http.MethodPost, ta.url+"/api/v1/deadletters/netbox_hedgehog.vpc:99/replay", testToken, nil).StatusCode)
	fail <- false
	require.Equal(t, 202, do(t, http.MethodPost, replay, testToken, nil).StatusCode)
	it := <-ta.seen
	require.Equal(t, 1, it.Attempt)
	decode(t, get(t, ta.url+"/api/v1/deadletters", testToken), &list)
	require.Zero(t, list.Count)
}

func TestMetricsPassPromlint(t *testing.T) {
	srv := redisenv.Start(t)
	ta := startApp(t, srv, nil)
	require.Equal(t, 202, postHook(t, ta, sampleBody(t), testSecret).StatusCode)
	<-ta.seen
	require.Eventually(t, func() bool { // observed once the handler has returned, after seen
		b, _ := io.ReadAll(get(t, ta.url+"/metrics", "").Body)
		return strings.Contains(string(b), "hnp_queue_processing_duration_seconds_count")
	}, 5*time.Second, 10*time.Millisecond)
	r := get(t, ta.url+"/metrics", "")
	problems, err := promlint.New(r.Body).Lint()
	require.NoError(t, err)
	require.Empty(t, problems)

	mfs, err := ta.reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		if strings.HasPrefix(mf.GetName(), "go_") || strings.HasPrefix(mf.GetName(), "process_") || strings.HasPrefix(mf.GetName(), "promhttp_") {
			continue
		}
		require.Regexp(t, `^hnp_[a-z]+_[a-z_]+$`, mf.GetName())
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				require.Contains(t, []string{"result", "state", "fabric", "from", "to", "dependency", "remote", "phase", "target", "mode", "reason", "stage"}, l.GetName(), "%s: high-cardinality label?", mf.GetName())
			}
		}
	}
	for _, n := range []string{"hnp_webhooks_received_total", "hnp_queue_depth", "hnp_queue_processing_duration_seconds",
		"hnp_queue_retries_total", "hnp_queue_dead_lettered_total"} {
		require.True(t, names[n], "missing %s", n)
	}
}

func TestLogsNeverContainSecrets(t *testing.T) {
	srv := redisenv.Start(t)
	ta := startApp(t, srv, nil)
	body := sampleBody(t)
	postHook(t, ta, body, testSecret)
	postHook(t, ta, body, "wrong-secret")
	get(t, ta.url+"/api/v1/deadletters", testToken)
	get(t, ta.url+"/api/v1/deadletters", "wrong-token-"+testToken)
	<-ta.seen
	logs := ta.logs.String()
	require.Contains(t, logs, "webhook accepted")
	require.Contains(t, logs, "signature does not match")
	for _, s := range []string{testSecret, testToken, webhook.Sign([]byte(testSecret), body), srv.Addr} {
		require.NotContains(t, logs, s)
	}
}

func env(kv map[string]string) config.Getenv {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}
