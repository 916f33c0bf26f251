package e2e

import (
	"bytes"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"

	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
	"github.com/githedgehog/hnp-sidecar/internal/webhook"
)

const (
	secret = "e2e-webhook-secret-0123"
	token  = "e2e-api-token-0123456789"
)

func baseEnv(redisURL string) map[string]string {
	return map[string]string{
		"HNP_REDIS_URL": redisURL, "HNP_WEBHOOK_SECRET": secret, "HNP_API_TOKEN": token,
		"HNP_QUEUE_POLL_INTERVAL": "100ms",
	}
}

func postSample(t *testing.T, s *sidecar) int {
	t.Helper()
	body, err := os.ReadFile("../../webhooks/samples/netbox-4.7/updated.json")
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, s.URL+"/webhooks/netbox", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), body))
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = r.Body.Close()
	return r.StatusCode
}

// A hint answered with 202 survives kill -9 of the process before any
// worker touched it: the restarted process handles it.
func TestKill9BetweenAcceptAndProcessing(t *testing.T) {
	srv := redisenv.Start(t)
	env := baseEnv(srv.URL())
	env["HNP_QUEUE_COALESCE_WINDOW"] = "2s" // the hint waits: room to kill
	first := startSidecar(t, env)
	accepted := time.Now()
	require.Equal(t, 202, postSample(t, first))
	first.Kill()
	require.NotContains(t, first.Logs.String(), `"msg":"processed"`)

	second := startSidecar(t, env)
	line := second.waitLog(t, 15*time.Second, `"msg":"processed"`, `"key":"netbox_hedgehog.vpc:4"`)
	require.Contains(t, line, `"netbox_user":"hnp-sidecar"`)
	t.Logf("accepted → killed → restarted → processed in %s", time.Since(accepted).Round(time.Millisecond))
}

// SIGTERM: stop accepting, finish running work, exit 0.
func TestSIGTERMShutsDownCleanly(t *testing.T) {
	srv := redisenv.Start(t)
	s := startSidecar(t, baseEnv(srv.URL()))
	require.Equal(t, 202, postSample(t, s))
	s.waitLog(t, 10*time.Second, `"msg":"processed"`)
	require.Equal(t, 0, s.Terminate(t))
	logs := s.Logs.String()
	require.Contains(t, logs, "queue workers stopped")
	require.Contains(t, logs, "hnp-sidecar stopped")
	require.False(t, strings.Contains(logs, `"level":"ERROR"`), logs)
}

// Start-up refuses a bad configuration with a message naming the variable.
func TestBadConfigurationStopsStartUp(t *testing.T) {
	env := baseEnv("redis://127.0.0.1:1/0")
	env["HNP_WORKERS"] = "many"
	out := &proc.Buffer{}
	cmd := execSidecar(t, env)
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	require.Error(t, err)
	require.Equal(t, 1, cmd.ProcessState.ExitCode())
	require.Contains(t, out.String(), `HNP_WORKERS="many": not an integer`)
}
