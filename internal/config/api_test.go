package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAPIVariables(t *testing.T) {
	c, err := LoadConfig(env(minimal()))
	require.NoError(t, err)
	require.Equal(t, APIConfig{AuthCacheTTL: 30 * time.Second, RateLimit: 10, RateBurst: 20}, c.API)
	c, err = LoadConfig(env(with(minimal(), "HNP_API_AUTH_CACHE_TTL", "1m", "HNP_API_RATE_LIMIT", "0", "HNP_API_RATE_BURST", "5")))
	require.NoError(t, err)
	require.Equal(t, APIConfig{AuthCacheTTL: time.Minute, RateLimit: 0, RateBurst: 5}, c.API)
	for _, tc := range []struct{ name, value, err string }{
		{"HNP_API_AUTH_CACHE_TTL", "1h", "at most 10m"},
		{"HNP_API_AUTH_CACHE_TTL", "10ms", "at least 1s"},
		{"HNP_API_RATE_LIMIT", "-1", "between 0 and"},
		{"HNP_API_RATE_BURST", "0", "between 1 and"},
	} {
		_, err := LoadConfig(env(with(minimal(), tc.name, tc.value)))
		require.ErrorContains(t, err, tc.err, tc.name+"="+tc.value)
	}
}
