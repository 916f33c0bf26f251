package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(kv map[string]string) Getenv {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func minimal() map[string]string {
	return map[string]string{
		"HNP_REDIS_URL":      "redis://127.0.0.1:6379/0",
		"HNP_WEBHOOK_SECRET": "webhook-secret-value",
		"HNP_API_TOKEN":      "api-token-value-0123456789",
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(out, kv[i])
			continue
		}
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(env(minimal()))
	require.NoError(t, err)
	require.Equal(t, ":8090", c.ListenAddr)
	require.Equal(t, "hnp", c.Queue.Prefix)
	require.Equal(t, 4, c.Queue.Workers)
	require.Equal(t, 8, c.Queue.MaxAttempts)
	require.Equal(t, time.Second, c.Queue.Backoff.Base)
	require.Equal(t, 250*time.Millisecond, c.Queue.CoalesceWindow)
	require.Equal(t, int64(1<<20), c.WebhookMaxBodyBytes)
	require.Equal(t, slog.LevelInfo, c.LogLevel)
	require.Equal(t, 25*time.Second, c.ShutdownTimeout)
	require.Equal(t, 20*time.Second, c.Queue.ShutdownGrace)
}

func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{with(minimal(), "HNP_REDIS_URL", "<unset>"), "HNP_REDIS_URL is required"},
		{with(minimal(), "HNP_REDIS_URL", "http://x"), `HNP_REDIS_URL="[redacted]": not a redis://`},
		{with(minimal(), "HNP_API_TOKEN", "<unset>"), "HNP_API_TOKEN is required"},
		{with(minimal(), "HNP_API_TOKEN", "short"), "HNP_API_TOKEN=\"[redacted]\": must be at least 16"},
		{with(minimal(), "HNP_WEBHOOK_SECRET", "<unset>"), "HNP_WEBHOOK_ALLOW_UNSIGNED=true"},
		{with(minimal(), "HNP_WEBHOOK_SECRET", "x"), `HNP_WEBHOOK_SECRET="[redacted]": must be at least 16 characters`},
		{with(minimal(), "HNP_WEBHOOK_SECRET_PREVIOUS", "old"), `HNP_WEBHOOK_SECRET_PREVIOUS="[redacted]": must be at least 16 characters`},
		{with(minimal(), "HNP_WEBHOOK_ALLOW_UNSIGNED", "yes please"), `HNP_WEBHOOK_ALLOW_UNSIGNED="yes please": not a boolean`},
		{with(minimal(), "HNP_LISTEN_ADDR", "8090"), `HNP_LISTEN_ADDR="8090": not host:port`},
		{with(minimal(), "HNP_LOG_LEVEL", "loud"), `HNP_LOG_LEVEL="loud"`},
		{with(minimal(), "HNP_WORKERS", "0"), `HNP_WORKERS="0": must be between 1 and 1024`},
		{with(minimal(), "HNP_QUEUE_LEASE", "10ms"), `HNP_QUEUE_LEASE="10ms": must be at least 1s`},
		{with(minimal(), "HNP_QUEUE_BACKOFF_BASE", "1h"), "HNP_QUEUE_BACKOFF_MAX must be >= HNP_QUEUE_BACKOFF_BASE"},
		{with(minimal(), "HNP_REDIS_PREFIX", "a{b}"), "HNP_REDIS_PREFIX"},
		{with(minimal(), "HNP_API_TOKEN_FILE", "/nonexistent"), "HNP_API_TOKEN and HNP_API_TOKEN_FILE are both set"},
		{with(minimal(), "HNP_WEBHOOK_SECRET", "<unset>", "HNP_WEBHOOK_SECRET_FILE", "/nonexistent/x"), "HNP_WEBHOOK_SECRET_FILE: open /nonexistent/x"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := LoadConfig(env(tt.env))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestLoadConfigUnsignedNeedsOptIn(t *testing.T) {
	c, err := LoadConfig(env(with(minimal(), "HNP_WEBHOOK_SECRET", "<unset>", "HNP_WEBHOOK_ALLOW_UNSIGNED", "true")))
	require.NoError(t, err)
	require.Empty(t, c.WebhookSecret)
}

func TestLoadConfigSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	m := with(minimal(), "HNP_WEBHOOK_SECRET", "<unset>", "HNP_API_TOKEN", "<unset>", "HNP_REDIS_URL", "<unset>",
		"HNP_WEBHOOK_SECRET_FILE", write("ws", "from-file-secret\n"),
		"HNP_API_TOKEN_FILE", write("tok", "from-file-token-0123456789\r\n"),
		"HNP_REDIS_URL_FILE", write("redis", "redis://:pw@127.0.0.1:1/2"))
	c, err := LoadConfig(env(m))
	require.NoError(t, err)
	require.Equal(t, "from-file-secret", c.WebhookSecret.Reveal())
	require.Equal(t, "from-file-token-0123456789", c.APIToken.Reveal())
	require.Equal(t, "redis://:pw@127.0.0.1:1/2", c.RedisURL.Reveal())
	_, err = LoadConfig(env(with(m, "HNP_API_TOKEN_FILE", write("empty", "\n"))))
	require.ErrorContains(t, err, "HNP_API_TOKEN_FILE")
}

func TestSecretsNeverPrint(t *testing.T) {
	c, err := LoadConfig(env(minimal()))
	require.NoError(t, err)
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("config", "config", c, "token", c.APIToken)
	fmt.Fprintf(&b, "%v %+v %#v %s", c, c, c, c.WebhookSecret)
	for _, s := range []string{"webhook-secret-value", "api-token-value", "127.0.0.1:6379"} {
		require.NotContains(t, b.String(), s)
	}
}

func TestUnknownVariables(t *testing.T) {
	got := UnknownVariables([]string{"HNP_REDIS_URL=x", "HNP_API_TOKEN_FILE=y", "HNP_WORKER=3", "PATH=/bin", "HNP_LISTEN_ADDR_FILE=z"})
	require.Equal(t, []string{"HNP_WORKER", "HNP_LISTEN_ADDR_FILE"}, got)
}

func TestREADMEListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, v := range allVariables() {
		require.Contains(t, string(readme), "`"+v.name+"`", "README's configuration table misses %s", v.name)
	}
}
