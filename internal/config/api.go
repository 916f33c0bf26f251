package config

import (
	"errors"
	"time"
)

// APIConfig guards the routes that accept NetBox users' credentials
// (HNP_API_*): how long NetBox's answers are remembered and how fast one
// client may ask.
type APIConfig struct {
	// AuthCacheTTL is how long an answer of NetBox (who the credentials
	// are; whether they may view or change a fabric) is reused, refusals
	// included.
	AuthCacheTTL time.Duration
	// RateLimit is requests per second per client address on those routes
	// (0: unlimited), RateBurst how many may come at once.
	RateLimit float64
	RateBurst int
}

var apiVariables = []variable{
	{name: "HNP_API_AUTH_CACHE_TTL", def: "30s", help: "how long NetBox's answers about a caller's credentials and fabric permissions are reused, refusals too (1s..10m)",
		set: func(c *Config, v string) error {
			d, err := parseDuration(time.Second)(v)
			if err == nil && d > 10*time.Minute {
				return errors.New("must be at most 10m")
			}
			c.API.AuthCacheTTL = d
			return err
		}},
	{name: "HNP_API_RATE_LIMIT", def: "10", help: "requests per second one client address may make on the routes that accept NetBox credentials (0: unlimited); over it: 429 with Retry-After",
		set: intVar(0, 100000, func(c *Config, n int64) { c.API.RateLimit = float64(n) })},
	{name: "HNP_API_RATE_BURST", def: "20", help: "how many requests one client address may make at once on the routes that accept NetBox credentials",
		set: intVar(1, 100000, func(c *Config, n int64) { c.API.RateBurst = int(n) })},
}
