package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/breaker"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// redisClient is the client of HNP_REDIS_URL (one server, Sentinel or
// Cluster); it connects on first use.
func redisClient(cfg config.Config) (redis.UniversalClient, error) {
	t := cfg.Redis
	if t.Mode == "" { // a Config not built by LoadConfig
		var err error
		if t, err = config.ParseRedisURL(cfg.RedisURL.Reveal()); err != nil {
			return nil, fmt.Errorf("app: HNP_REDIS_URL: %w", err) // never echoes the URL
		}
	}
	var tlsc *tls.Config
	if t.TLS {
		tlsc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	switch t.Mode {
	case config.RedisSentinel:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: t.MasterName, SentinelAddrs: t.Addrs, SentinelPassword: cfg.RedisSentinelPassword.Reveal(),
			Username: t.Username, Password: t.Password.Reveal(), DB: t.DB, TLSConfig: tlsc,
			DialTimeout: redisDialTimeout, ReadTimeout: redisIOTimeout, WriteTimeout: redisIOTimeout, PoolSize: redisPoolSize,
		}), nil
	case config.RedisCluster:
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: t.Addrs, Username: t.Username, Password: t.Password.Reveal(), TLSConfig: tlsc,
			DialTimeout: redisDialTimeout, ReadTimeout: redisIOTimeout, WriteTimeout: redisIOTimeout, PoolSize: redisPoolSize,
		}), nil
	}
	ropts, err := redis.ParseURL(t.URL.Reveal())
	if err != nil {
		return nil, errors.New("app: HNP_REDIS_URL: not a valid Redis URL") // err may echo the password
	}
	ropts.DialTimeout, ropts.ReadTimeout, ropts.WriteTimeout = redisDialTimeout, redisIOTimeout, redisIOTimeout
	if ropts.PoolSize == 0 {
		ropts.PoolSize = redisPoolSize
	}
	return redis.NewClient(ropts), nil
}

const (
	redisDialTimeout = 5 * time.Second
	redisIOTimeout   = 3 * time.Second
	// redisPoolSize: every webhook being answered holds a connection for
	// one script call; go-redis's default (10 per CPU) makes webhooks
	// queue for connections on a small pod. pool_size in a redis:// URL
	// overrides this.
	redisPoolSize = 128
)

// newBreakers is one circuit breaker per dependency and remote (Git, Argo
// CD, Kubernetes, NetBox): an open one makes work wait, never fail.
func newBreakers(cfg config.Config, logger *slog.Logger, reg prometheus.Registerer) (*breaker.Set, error) {
	opts := breaker.DefaultOptions()
	if cfg.Breakers.ConsecutiveFailures > 0 {
		opts.ConsecutiveFailures = cfg.Breakers.ConsecutiveFailures
	}
	if cfg.Breakers.OpenTimeout > 0 {
		opts.OpenTimeout = cfg.Breakers.OpenTimeout
	}
	set, err := breaker.NewSet(logger.With("component", "breaker"), reg, opts)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return set, nil
}

// breakerClient is an HTTP client whose calls go through dep's breakers.
func breakerClient(set *breaker.Set, dep breaker.Dependency, hc *http.Client, opts ...breaker.TransportOption) *http.Client {
	c := *hc
	c.Transport = set.Transport(dep, hc.Transport, opts...)
	return &c
}

// netboxClient is the NetBox client, nil when NetBox is not configured.
func netboxClient(cfg config.Config, breakers *breaker.Set) (*netbox.Client, error) {
	if cfg.NetBox.URL == "" {
		return nil, nil
	}
	tr, err := netbox.Transport(cfg.NetBox.CABundle) // HNP_NETBOX_CA_FILE
	if err != nil {
		return nil, fmt.Errorf("app: HNP_NETBOX_CA_FILE: %w", err)
	}
	nb, err := netbox.New(netbox.Options{URL: cfg.NetBox.URL, Token: cfg.NetBox.Token.Reveal(), UserAgent: "hnp-sidecar",
		HTTPClient: breakerClient(breakers, breaker.NetBox, &http.Client{Timeout: 30 * time.Second, Transport: tr},
			// A database constraint refusing a write-back is NetBox
			// answering, not NetBox being down.
			breaker.NeutralAnswer(netbox.ConstraintAnswer))})
	if err != nil {
		return nil, fmt.Errorf("app: HNP_NETBOX_URL/HNP_NETBOX_TOKEN: %w", err)
	}
	return nb, nil
}

// checkRedis warns when Redis would lose accepted hints on a restart.
func (a *App) checkRedis(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		a.logger.Warn("redis is not reachable yet; webhooks get 503 until it is", "err", err)
		return
	}
	a.checkReplicas(ctx)
	aof, err := a.rdb.ConfigGet(ctx, "appendonly").Result()
	if err != nil {
		return // CONFIG may be disabled on managed Redis
	}
	save, _ := a.rdb.ConfigGet(ctx, "save").Result()
	if aof["appendonly"] != "yes" && save["save"] == "" {
		a.logger.Warn("redis has no persistence (appendonly no, save \"\"): hints accepted but not yet processed are lost if Redis restarts; the periodic full reconcile is then the only backstop")
	}
}

// checkReplicas warns when the primary has fewer replicas than
// HNP_REDIS_WAIT_REPLICAS: every webhook would be answered 503. (A
// Cluster's INFO is any node's: not checked.)
func (a *App) checkReplicas(ctx context.Context) {
	want := a.cfg.Queue.WaitReplicas
	if _, cluster := a.rdb.(*redis.ClusterClient); want == 0 || cluster {
		return
	}
	info, err := a.rdb.Info(ctx, "replication").Result()
	if err != nil {
		return
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			if n, err := strconv.Atoi(v); err == nil && n < want {
				a.logger.Warn("redis primary has fewer replicas than HNP_REDIS_WAIT_REPLICAS: webhooks get 503 until enough acknowledge",
					"connected_replicas", n, "wait_replicas", want)
			}
		}
	}
}
