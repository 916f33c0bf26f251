package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/breaker"

	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// EnvPrefix starts every configuration variable.
const EnvPrefix = "HNP_"

// Config is the whole configuration of the service, read once at start-up
// from HNP_* environment variables.
type Config struct {
	ListenAddr string
	RedisURL   Secret
	// Redis is HNP_REDIS_URL taken apart: one server, Sentinel or Cluster.
	Redis RedisTarget
	// RedisSentinelPassword authenticates to the sentinels
	// (HNP_REDIS_SENTINEL_PASSWORD).
	RedisSentinelPassword Secret
	RedisPrefix           string
	WebhookSecret         Secret
	// WebhookSecretPrevious is accepted too while the secret is rotated.
	WebhookSecretPrevious Secret
	WebhookAllowUnsigned  bool
	WebhookMaxBodyBytes   int64
	APIToken              Secret
	LogLevel              slog.Level
	Queue                 queue.Options
	ShutdownTimeout       time.Duration
	ReconcileInterval     time.Duration
	// MaxDeleteFraction (HNP_MAX_DELETE_FRACTION): a full reconcile that
	// would remove more than this fraction of a fabric's files in Git
	// without a delete webhook for each is refused; 1 turns the guard off.
	MaxDeleteFraction float64
	// IncrementalMaxBacklog (HNP_INCREMENTAL_MAX_BACKLOG): single-object
	// hints are incremental runs while at most this many queue keys wait
	// or run; 0: only full runs.
	IncrementalMaxBacklog int
	// DriftInterval is how often every fabric's cluster is checked for
	// drift (HNP_DRIFT_INTERVAL; 0: on demand only); DriftHeartbeatMaxAge
	// how old a switch agent's heartbeat may be.
	DriftInterval time.Duration
	// LeaseTTL is how long a replica's fabric lease lives unrenewed
	// (HNP_LEASE_TTL).
	LeaseTTL time.Duration
	// Breakers configures the circuit breakers (HNP_BREAKER_*).
	Breakers             breaker.Options
	DriftHeartbeatMaxAge time.Duration
	// ClusterAllowedServers (HNP_CLUSTER_ALLOWED_SERVERS) bounds the
	// Kubernetes API servers a fabric's kubernetes_server may name (hosts
	// or host:port); empty: any https server.
	ClusterAllowedServers []string
	// WriteBack shows each object's state in NetBox (HNP_NETBOX_WRITEBACK).
	WriteBack bool
	NetBox    NetBoxConfig
	Git       GitConfig
	Argo      ArgoConfig
	API       APIConfig
}

// NetBoxConfig is how the sidecar reaches NetBox and how NetBox reaches it.
type NetBoxConfig struct {
	URL        string
	Token      Secret
	SidecarURL string
	// CAFile and CABundle (its content, read at load) are CAs trusted for
	// NetBox's HTTPS beside the system's (HNP_NETBOX_CA_FILE).
	CAFile   string
	CABundle []byte
}

// Getenv looks a variable up, as os.LookupEnv does.
type Getenv func(name string) (string, bool)

// LoadConfig reads and validates the configuration of `serve`. Every
// problem is reported, each naming its variable. Secrets may come from
// <NAME>_FILE.
func LoadConfig(getenv Getenv) (Config, error) {
	c := Config{Queue: queue.DefaultOptions()}
	errs := load(getenv, append(append(append(append([]variable{}, variables...), gitVariables...), argoVariables...), apiVariables...), &c)
	errs = append(errs, c.validate()...)
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// load applies vars to c and returns every problem found.
func load(getenv Getenv, vars []variable, c *Config) []error {
	r := &reader{getenv: getenv}
	for _, v := range vars {
		raw, ok, err := r.lookup(v)
		if err != nil {
			r.errs = append(r.errs, err)
			continue
		}
		if !ok {
			if v.required {
				r.errs = append(r.errs, fmt.Errorf("%s is required: %s", v.name, v.help))
				continue
			}
			raw = v.def
		}
		if err := v.set(c, raw); err != nil {
			r.errs = append(r.errs, fmt.Errorf("%s=%q: %w", v.name, shown(v, raw), err))
		}
	}
	return r.errs
}

func (c Config) validate() []error {
	var errs []error
	if c.WebhookSecret == "" && !c.WebhookAllowUnsigned {
		errs = append(errs, errors.New("HNP_WEBHOOK_SECRET is required (set the same secret on the NetBox webhook); "+
			"to accept unsigned webhooks anyway set HNP_WEBHOOK_ALLOW_UNSIGNED=true"))
	}
	if (c.NetBox.URL == "") != (c.NetBox.Token == "") {
		errs = append(errs, errors.New("HNP_NETBOX_URL and HNP_NETBOX_TOKEN go together: set both to reconcile into Git, or neither to only log hints"))
	}
	if c.RedisSentinelPassword != "" && c.Redis.Mode != RedisSentinel {
		errs = append(errs, errors.New("HNP_REDIS_SENTINEL_PASSWORD is set but HNP_REDIS_URL names no Sentinel (redis+sentinel://)"))
	}
	errs = append(errs, c.Argo.validate()...)
	errs = append(errs, c.Git.validate()...)
	if c.Queue.Backoff.Max < c.Queue.Backoff.Base {
		errs = append(errs, errors.New("HNP_QUEUE_BACKOFF_MAX must be >= HNP_QUEUE_BACKOFF_BASE"))
	}
	return errs
}

// UnknownVariables lists HNP_* names in environ that are not
// configuration variables, so a typo is not silently ignored.
func UnknownVariables(environ []string) []string {
	known := map[string]bool{}
	for _, v := range allVariables() {
		known[v.name] = true
		if v.secret {
			known[v.name+"_FILE"] = true
		}
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, EnvPrefix) && !known[name] {
			out = append(out, name)
		}
	}
	return out
}

type reader struct {
	getenv Getenv
	errs   []error
}

// lookup returns the variable's value from NAME or, for secrets, the
// content of the file named by NAME_FILE.
func (r *reader) lookup(v variable) (string, bool, error) {
	val, ok := r.getenv(v.name)
	if !v.secret {
		return strings.TrimSpace(val), ok && strings.TrimSpace(val) != "", nil
	}
	path, fok := r.getenv(v.name + "_FILE")
	switch {
	case ok && val != "" && fok && path != "":
		return "", false, fmt.Errorf("%s and %s_FILE are both set; set one", v.name, v.name)
	case fok && path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return "", false, fmt.Errorf("%s_FILE: %w", v.name, err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", false, fmt.Errorf("%s_FILE: %s is empty", v.name, path)
		}
		return s, true, nil
	}
	return val, ok && val != "", nil
}

func shown(v variable, raw string) string {
	if v.secret {
		return redacted
	}
	return raw
}

func parseDuration(min time.Duration) func(string) (time.Duration, error) {
	return func(s string) (time.Duration, error) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, errors.New("not a duration such as 500ms, 30s or 5m")
		}
		if d < min {
			return 0, fmt.Errorf("must be at least %s", min)
		}
		return d, nil
	}
}

func parseInt(min, max int64) func(string) (int64, error) {
	return func(s string) (int64, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, errors.New("not an integer")
		}
		if n < min || n > max {
			return 0, fmt.Errorf("must be between %d and %d", min, max)
		}
		return n, nil
	}
}

func parseListenAddr(s string) error {
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		return errors.New("not host:port, such as :8090 or 127.0.0.1:8090")
	}
	return nil
}

// allVariables is every variable of every command (names may repeat).
func allVariables() []variable {
	return append(append(append(append(append([]variable{}, variables...), gitVariables...), argoVariables...), bootstrapVariables...), apiVariables...)
}

// Check applies the rule of variable name to value, as loading would, so
// a command-line flag that stands for the variable refuses what the
// variable refuses. A name that is no variable is an error.
func Check(name, value string) error {
	for _, v := range allVariables() {
		if v.name == name {
			var c Config
			return v.set(&c, value)
		}
	}
	return fmt.Errorf("config: no variable %s", name)
}
