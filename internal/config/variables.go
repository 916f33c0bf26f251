package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// variable is one HNP_* configuration variable. The README's table lists
// every one (a test checks it).
type variable struct {
	name     string
	def      string
	required bool
	secret   bool // also readable from NAME_FILE, never printed
	help     string
	set      func(c *Config, v string) error
}

func durationVar(min time.Duration, dst func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := parseDuration(min)(v)
		*dst(c) = d
		return err
	}
}

func intVar(min, max int64, dst func(*Config, int64)) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := parseInt(min, max)(v)
		dst(c, n)
		return err
	}
}

// listVar sets a comma-separated list: items trimmed, empty ones dropped.
func listVar(dst func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*dst(c) = nil
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				*dst(c) = append(*dst(c), e)
			}
		}
		return nil
	}
}

func boolVar(dst func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("not a boolean (true or false)")
		}
		*dst(c) = b
		return nil
	}
}

// minSecretLen is the shortest webhook secret or API token accepted: a
// secret of "x" signs nothing anyone cannot forge.
const minSecretLen = 16

func webhookSecret(dst func(*Config) *Secret) func(*Config, string) error {
	return func(c *Config, v string) error {
		*dst(c) = Secret(v)
		if v != "" && len(v) < minSecretLen { // unset: validate says whether it must be
			return fmt.Errorf("must be at least %d characters (e.g. openssl rand -hex 32)", minSecretLen)
		}
		return nil
	}
}

var variables = []variable{
	{name: "HNP_LISTEN_ADDR", def: ":8090", help: "address of the HTTP server (webhooks, API, probes, metrics)",
		set: func(c *Config, v string) error { c.ListenAddr = v; return parseListenAddr(v) }},
	{name: "HNP_REDIS_URL", required: true, secret: true, help: "Redis holding the queue and states: redis://:password@redis:6379/0, " +
		"redis+sentinel://:password@s1:26379,s2:26379,s3:26379/<master-name>[/<db>] or redis+cluster://:password@n1:6379,n2:6379 (rediss+… for TLS)",
		set: func(c *Config, v string) error {
			var err error
			c.RedisURL = Secret(v)
			c.Redis, err = ParseRedisURL(v)
			return err
		}},
	{name: "HNP_REDIS_SENTINEL_PASSWORD", secret: true, help: "password of the sentinels (their requirepass) when HNP_REDIS_URL is redis+sentinel://; the URL's password is the data nodes'",
		set: func(c *Config, v string) error { c.RedisSentinelPassword = Secret(v); return nil }},
	{name: "HNP_REDIS_WAIT_REPLICAS", def: "0", help: "replicas that must acknowledge a webhook's hint (Redis WAIT) before it is answered 202; fewer in HNP_REDIS_WAIT_TIMEOUT answer 503; 0: no wait",
		set: intVar(0, 16, func(c *Config, n int64) { c.Queue.WaitReplicas = int(n) })},
	{name: "HNP_REDIS_WAIT_TIMEOUT", def: "500ms", help: "how long a hint waits for HNP_REDIS_WAIT_REPLICAS acknowledgements (a replica acknowledges after its own append-only fsync)",
		set: durationVar(time.Millisecond, func(c *Config) *time.Duration { return &c.Queue.WaitTimeout })},
	{name: "HNP_REDIS_PREFIX", def: "hnp", help: "prefix of every Redis key (a Cluster hash tag)",
		set: func(c *Config, v string) error {
			if strings.ContainsAny(v, "{}: ") {
				return errors.New("must not contain braces, colons or spaces")
			}
			c.RedisPrefix, c.Queue.Prefix = v, v
			return nil
		}},
	{name: "HNP_WEBHOOK_SECRET", secret: true, help: "secret of the NetBox webhook; X-Hook-Signature is checked with it; at least 16 characters",
		set: webhookSecret(func(c *Config) *Secret { return &c.WebhookSecret })},
	{name: "HNP_WEBHOOK_SECRET_PREVIOUS", secret: true, help: "the old webhook secret while rotating: webhooks signed with it are accepted too; unset it once bootstrap has given NetBox the new one",
		set: webhookSecret(func(c *Config) *Secret { return &c.WebhookSecretPrevious })},
	{name: "HNP_WEBHOOK_ALLOW_UNSIGNED", def: "false", help: "accept webhooks without a signature when no secret is set (not for production)",
		set: boolVar(func(c *Config) *bool { return &c.WebhookAllowUnsigned })},
	{name: "HNP_WEBHOOK_MAX_BODY_BYTES", def: "1048576", help: "largest webhook body accepted; larger ones get 413",
		set: intVar(1024, 64<<20, func(c *Config, n int64) { c.WebhookMaxBodyBytes = n })},
	{name: "HNP_API_TOKEN", required: true, secret: true, help: "bearer token for the sidecar's own API (dead letters, re-sync); at least 16 characters",
		set: func(c *Config, v string) error {
			c.APIToken = Secret(v)
			if len(v) < 16 {
				return errors.New("must be at least 16 characters")
			}
			return nil
		}},
	{name: "HNP_LOG_LEVEL", def: "info", help: "debug, info, warn or error",
		set: func(c *Config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("not one of debug, info, warn, error")
			}
			return nil
		}},
	{name: "HNP_WORKERS", def: "4", help: "objects reconciled at once by this process",
		set: intVar(1, 1024, func(c *Config, n int64) { c.Queue.Workers = int(n) })},
	{name: "HNP_QUEUE_MAX_ATTEMPTS", def: "8", help: "failed runs of one object before it is dead-lettered",
		set: intVar(1, 1000, func(c *Config, n int64) { c.Queue.MaxAttempts = int(n) })},
	{name: "HNP_QUEUE_BACKOFF_BASE", def: "1s", help: "first retry delay; doubles per failure, with jitter",
		set: durationVar(time.Millisecond, func(c *Config) *time.Duration { return &c.Queue.Backoff.Base })},
	{name: "HNP_QUEUE_BACKOFF_MAX", def: "5m", help: "longest retry delay",
		set: durationVar(time.Millisecond, func(c *Config) *time.Duration { return &c.Queue.Backoff.Max })},
	{name: "HNP_QUEUE_COALESCE_WINDOW", def: "250ms", help: "how long a new hint waits so hints for the same object arriving together are one run",
		set: durationVar(0, func(c *Config) *time.Duration { return &c.Queue.CoalesceWindow })},
	{name: "HNP_QUEUE_LEASE", def: "30s", help: "how long the work of a process that died stays claimed before another takes it",
		set: durationVar(time.Second, func(c *Config) *time.Duration { return &c.Queue.Lease })},
	{name: "HNP_QUEUE_POLL_INTERVAL", def: "1s", help: "longest an idle worker pool waits before looking for work queued by another replica",
		set: durationVar(10*time.Millisecond, func(c *Config) *time.Duration { return &c.Queue.PollInterval })},
	{name: "HNP_HANDLER_TIMEOUT", def: "2m", help: "longest one object's reconcile may run",
		set: durationVar(time.Second, func(c *Config) *time.Duration { return &c.Queue.HandlerTimeout })},
	netboxURLVar,
	netboxTokenVar,
	netboxCAVar,
	{name: "HNP_NETBOX_WRITEBACK", def: "true", help: "write each object's GitOps state (sync_error, git_file_path, last_synced, kubernetes_status, journal entries) and the fabric's sync fields back to NetBox",
		set: boolVar(func(c *Config) *bool { return &c.WriteBack })},
	{name: "HNP_RECONCILE_INTERVAL", def: "10m", help: "full reconcile of every fabric at start and then this often (jittered); 0 turns it off",
		set: func(c *Config, v string) error {
			if v == "0" {
				c.ReconcileInterval = 0
				return nil
			}
			d, err := parseDuration(time.Second)(v)
			c.ReconcileInterval = d
			return err
		}},
	{name: "HNP_MAX_DELETE_FRACTION", def: "0.5", help: "a full reconcile that would remove more than this fraction of a fabric's files in Git without a delete webhook for each (objects missing from NetBox's lists and answering 404 by id) is refused until `hnp-sidecar resync --allow-deletes`; 1 turns the guard off",
		set: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f <= 0 || f > 1 {
				return errors.New("not a fraction greater than 0 and at most 1 (0.5 is half)")
			}
			c.MaxDeleteFraction = f
			return nil
		}},
	{name: "HNP_INCREMENTAL_MAX_BACKLOG", def: "16", help: "a hint for one object is an incremental run (that object read by id, the rest from the fabric's snapshot in Redis, one file changed) while at most this many keys wait in the queue or run; more (a bulk change) and the run is a full one, which covers them all; 0: every run is a full one",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return errors.New("not a whole number >= 0")
			}
			c.IncrementalMaxBacklog = n
			return nil
		}},
	{name: "HNP_DRIFT_INTERVAL", def: "1m", help: "compare every fabric's live CRs with Git this often (jittered): drift, orphans, switch agents; 0: only on demand (POST /api/v1/fabrics/{id}/drift)",
		set: func(c *Config, v string) error {
			if v == "0" {
				c.DriftInterval = 0
				return nil
			}
			d, err := parseDuration(time.Second)(v)
			c.DriftInterval = d
			return err
		}},
	{name: "HNP_LEASE_TTL", def: "15s", help: "how long a replica's lease on a fabric lives without renewal (renewed every third of it): one replica writes each fabric, and a dead replica's fabrics move to another within this time (1s..5m)",
		set: func(c *Config, v string) error {
			d, err := parseDuration(time.Second)(v)
			if err == nil && d > 5*time.Minute {
				return errors.New("must be at most 5m")
			}
			c.LeaseTTL = d
			return err
		}},
	{name: "HNP_DRIFT_HEARTBEAT_MAX_AGE", def: "2m", help: "a switch agent whose last heartbeat is older is reported not converged",
		set: durationVar(time.Second, func(c *Config) *time.Duration { return &c.DriftHeartbeatMaxAge })},
	{name: "HNP_CLUSTER_ALLOWED_SERVERS", help: "comma-separated Kubernetes API server hosts (or host:port) a fabric's kubernetes_server may name; such a fabric's Argo CD runs in that cluster and its drift is checked there; unset: any https:// server (the token sent is the fabric's own, from NetBox), but then the sidecar's Git credentials are not given to that cluster's Argo CD",
		set: listVar(func(c *Config) *[]string { return &c.ClusterAllowedServers })},
	{name: "HNP_BREAKER_FAILURES", def: "5", help: "failed calls in a row to one remote (Git, Argo CD, Kubernetes, NetBox) that open its circuit breaker",
		set: intVar(1, 1000, func(c *Config, n int64) { c.Breakers.ConsecutiveFailures = uint32(n) })},
	{name: "HNP_BREAKER_OPEN_TIMEOUT", def: "30s", help: "how long an open circuit breaker refuses calls before one probe call may try",
		set: durationVar(100*time.Millisecond, func(c *Config) *time.Duration { return &c.Breakers.OpenTimeout })},
	{name: "HNP_SHUTDOWN_TIMEOUT", def: "25s", help: "on SIGTERM, how long running work may finish before it is handed back",
		set: func(c *Config, v string) error {
			d, err := parseDuration(time.Second)(v)
			c.ShutdownTimeout, c.Queue.ShutdownGrace = d, d*4/5
			return err
		}},
}

// LogValue shows the configuration with its secrets hidden.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("listen_addr", c.ListenAddr),
		slog.Any("redis_url", c.RedisURL),
		slog.String("redis_mode", string(c.Redis.Mode)),
		slog.Int("redis_wait_replicas", c.Queue.WaitReplicas),
		slog.String("redis_prefix", c.RedisPrefix),
		slog.Bool("webhook_signed", c.WebhookSecret != ""),
		slog.Int64("webhook_max_body_bytes", c.WebhookMaxBodyBytes),
		slog.String("log_level", c.LogLevel.String()),
		slog.Group("queue",
			slog.Int("workers", c.Queue.Workers), slog.Int("max_attempts", c.Queue.MaxAttempts),
			slog.Duration("backoff_base", c.Queue.Backoff.Base), slog.Duration("backoff_max", c.Queue.Backoff.Max),
			slog.Duration("coalesce_window", c.Queue.CoalesceWindow), slog.Duration("lease", c.Queue.Lease)),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Duration("reconcile_interval", c.ReconcileInterval),
		slog.String("netbox_url", c.NetBox.URL),
		slog.String("netbox_ca_file", c.NetBox.CAFile),
		slog.Bool("netbox_writeback", c.WriteBack),
		slog.Attr{Key: "argocd", Value: c.Argo.LogValue()},
		c.Git.logValue(),
	)
}
