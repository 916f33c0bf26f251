// Package problems keeps what is wrong with a fabric that only its owner
// can fix — a Git repository the sidecar cannot read, a fabric whose data
// NetBox refuses to save — in Redis, so every replica reports the same and
// each problem is told to the user once, not on every run.
package problems

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// ErrStore: Redis did not answer.
var ErrStore = errors.New("problems: store")

// Problem is why a fabric cannot be synced.
type Problem struct {
	Fabric int64     `json:"fabric"`
	Name   string    `json:"name"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
}

// Store keeps problems in Redis.
type Store struct {
	rdb     redis.UniversalClient
	prefix  string
	fabrics string // hash: fabric id → Problem JSON
	// fabricRefusals: fabric id → its Whole refusal (the fabric's data
	// refuses every write-back), for health. Each fabric's refusals are a
	// hash of their own (refusedKey).
	fabricRefusals string
	now            func() time.Time
	m              metrics
}

type metrics struct {
	fabric  prometheus.Counter
	refused *prometheus.CounterVec
}

// New builds a store whose keys start with the Redis prefix (one hash
// slot, like every key of the sidecar) and registers its metrics.
func New(rdb redis.UniversalClient, prefix string, reg prometheus.Registerer) (*Store, error) {
	s := &Store{rdb: rdb, prefix: prefix, fabrics: keyspace.Key(prefix, "problems", "fabrics"),
		fabricRefusals: keyspace.Key(prefix, "problems", "fabric-refusals"), now: time.Now}
	s.m.fabric = prometheus.NewCounter(prometheus.CounterOpts{Name: "hnp_problems_fabric_errors_total",
		Help: "Configuration or data errors newly found on a fabric (a Git repository the sidecar cannot read, say)."})
	s.m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hnp_problems_writeback_refusals_total",
		Help: "Write-backs NetBox refused because of the data, counted once per refused set of values; target is object or fabric."},
		[]string{"target"})
	for _, c := range []prometheus.Collector{s.m.fabric, s.m.refused} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("problems: register metrics: %w", err)
		}
	}
	return s, nil
}

// setIfNew stores ARGV[2] under field ARGV[1] unless the stored value's
// reason (JSON) equals ARGV[3]; 1 when it stored.
var setIfNew = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local ok, d = pcall(cjson.decode, cur)
  if ok and d.reason == ARGV[3] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`)

// Set records p for its fabric. first is true when the fabric had no
// problem or another one: that is when the user must be told.
func (s *Store) Set(ctx context.Context, p Problem) (first bool, err error) {
	if p.Since.IsZero() {
		p.Since = s.now().UTC()
	}
	b, err := json.Marshal(p)
	if err != nil {
		return false, fmt.Errorf("problems: encode: %w", err)
	}
	n, err := setIfNew.Run(ctx, s.rdb, []string{s.fabrics}, strconv.FormatInt(p.Fabric, 10), b, p.Reason).Int()
	if err != nil {
		return false, fmt.Errorf("%w: set fabric %d: %w", ErrStore, p.Fabric, err)
	}
	if n == 1 {
		s.m.fabric.Inc()
	}
	return n == 1, nil
}

// Clear forgets fabric's problem; had is true when there was one.
func (s *Store) Clear(ctx context.Context, fabric int64) (had bool, err error) {
	n, err := s.rdb.HDel(ctx, s.fabrics, strconv.FormatInt(fabric, 10)).Result()
	if err != nil {
		return false, fmt.Errorf("%w: clear fabric %d: %w", ErrStore, fabric, err)
	}
	return n > 0, nil
}

// Get returns fabric's problem, if it has one.
func (s *Store) Get(ctx context.Context, fabric int64) (Problem, bool, error) {
	raw, err := s.rdb.HGet(ctx, s.fabrics, strconv.FormatInt(fabric, 10)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Problem{}, false, nil
	}
	if err != nil {
		return Problem{}, false, fmt.Errorf("%w: get fabric %d: %w", ErrStore, fabric, err)
	}
	var p Problem
	if err := json.Unmarshal(raw, &p); err != nil {
		return Problem{}, false, fmt.Errorf("problems: decode fabric %d: %w", fabric, err)
	}
	return p, true, nil
}

// List returns every fabric's problem, by fabric id.
func (s *Store) List(ctx context.Context) ([]Problem, error) {
	all, err := s.rdb.HGetAll(ctx, s.fabrics).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: list: %w", ErrStore, err)
	}
	out := make([]Problem, 0, len(all))
	for _, raw := range all {
		var p Problem
		if json.Unmarshal([]byte(raw), &p) == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Fabric < out[j].Fabric })
	return out, nil
}
