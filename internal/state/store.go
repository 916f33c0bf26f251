package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// None, as Change.Expect, requires that the key has no record yet.
const None State = "none"

// Change is one transition (or a record's beginning or end) to apply.
type Change struct {
	Key Key
	// To is the new state; ignored when End is set.
	To State
	// Trigger, when set, must be the table's trigger for the transition
	// (or Observed for a new record, DeletedInNetBox/RemovedFromGit with End).
	Trigger Trigger
	// Expect, when set, is the state the caller saw: another state (or
	// None, a record) makes the change fail with ErrConflict.
	Expect State
	// End ends the record; its history stays for the store's HistoryTTL.
	End bool
	// Reason replaces the record's reason ("" clears it).
	Reason string
	// Commit, Path, Hash, FabricName and NetBoxID replace the record's
	// when set.
	Commit, Path, Hash, FabricName string
	NetBoxID                       int64
	// Committed stamps CommittedAt with the change's time.
	Committed bool
	// ChangedAt, when set, is when NetBox made the change this one
	// records: with Committed, the commit latency is observed
	// (hnp_sync_latency_seconds{stage="committed"}), and it becomes the
	// record's ChangedAt unless that holds an older change still on its way.
	ChangedAt time.Time
}

// Options tunes the store.
type Options struct {
	// Prefix namespaces the Redis keys; it becomes a Cluster hash tag.
	Prefix string
	// HistoryLen caps each record's history (newest kept).
	HistoryLen int
	// HistoryTTL keeps an ended record's history this long.
	HistoryTTL time.Duration
}

// Store keeps records in Redis. Safe for concurrent use, from any number
// of processes.
type Store struct {
	rdb     redis.UniversalClient
	opts    Options
	script  *redis.Script
	now     func() time.Time
	illegal prometheus.Counter
	moves   *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// New builds a store and registers its metrics on reg.
func New(rdb redis.UniversalClient, opts Options, reg prometheus.Registerer) (*Store, error) {
	if opts.Prefix == "" {
		opts.Prefix = "hnp"
	}
	if opts.HistoryLen <= 0 {
		opts.HistoryLen = 50
	}
	if opts.HistoryTTL <= 0 {
		opts.HistoryTTL = 7 * 24 * time.Hour
	}
	s := &Store{rdb: rdb, opts: opts, script: newMoveScript(), now: time.Now}
	if err := s.register(reg); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) key(parts ...string) string {
	return keyspace.Key(s.opts.Prefix, append([]string{"st"}, parts...)...)
}

func (s *Store) records(fabric int64) string { return s.key("r", strconv.FormatInt(fabric, 10)) }
func (s *Store) counts(fabric int64) string  { return s.key("n", strconv.FormatInt(fabric, 10)) }
func (s *Store) history(k Key) string        { return s.key("h", strconv.FormatInt(k.Fabric, 10), k.field()) }

type patch struct {
	Reason     string `json:"reason"`
	Commit     string `json:"commit,omitempty"`
	Path       string `json:"path,omitempty"`
	Hash       string `json:"hash,omitempty"`
	FabricName string `json:"fabric_name,omitempty"`
	NetBoxID   int64  `json:"netbox_id,omitempty"`
	Committed  bool   `json:"committed,omitempty"`
	ChangedAt  string `json:"changed_at,omitempty"`
}

func (s *Store) args(ctx context.Context, c Change, now time.Time) ([]string, []any, error) {
	if err := c.Key.validate(); err != nil {
		return nil, nil, err
	}
	op := "move"
	if c.End {
		op = "end"
	}
	pt := patch{Reason: c.Reason, Commit: c.Commit, Path: c.Path, Hash: c.Hash,
		FabricName: c.FabricName, NetBoxID: c.NetBoxID, Committed: c.Committed}
	if !c.ChangedAt.IsZero() {
		pt.ChangedAt = c.ChangedAt.UTC().Format(time.RFC3339Nano)
	}
	p, _ := json.Marshal(pt)
	k, _ := json.Marshal(c.Key)
	fabric := strconv.FormatInt(c.Key.Fabric, 10)
	keys := []string{s.records(c.Key.Fabric), s.history(c.Key), s.counts(c.Key.Fabric),
		s.key("meta"), s.key("fabrics"), s.key("names")}
	argv := []any{c.Key.field(), op, string(c.To), string(c.Trigger), string(c.Expect), string(p),
		now.UTC().Format(time.RFC3339Nano), s.opts.HistoryLen, fabric, int(s.opts.HistoryTTL / time.Second), string(k)}
	if f, ok := fenceFrom(ctx, c.Key.Fabric); ok {
		keys, argv = append(keys, f.Key), append(argv, f.Value)
	}
	return keys, argv, nil
}

// Apply applies changes in one round trip; each is atomic on its own. The
// result has one error per change (nil when applied): ErrIllegal,
// ErrConflict, ErrNotFound or a Redis error.
func (s *Store) Apply(ctx context.Context, changes ...Change) []error {
	errs := make([]error, len(changes))
	todo := make([]int, 0, len(changes))
	for i := range changes {
		todo = append(todo, i)
	}
	for round := 0; round < 2 && len(todo) > 0; round++ {
		now := s.now()
		cmds := make([]*redis.Cmd, len(changes))
		pipe := s.rdb.Pipeline()
		for _, i := range todo {
			keys, argv, err := s.args(ctx, changes[i], now)
			if err != nil {
				errs[i] = err
				continue
			}
			cmds[i] = s.script.EvalSha(ctx, pipe, keys, argv...)
		}
		_, _ = pipe.Exec(ctx)
		var again []int
		for _, i := range todo {
			if cmds[i] == nil {
				continue
			}
			res, err := cmds[i].StringSlice()
			if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && round == 0 {
				again = append(again, i) // not run at all: safe to send again
				continue
			}
			errs[i] = s.result(changes[i], res, err, now)
		}
		if len(again) > 0 {
			if err := s.script.Load(ctx, s.rdb).Err(); err != nil {
				for _, i := range again {
					errs[i] = fmt.Errorf("state: load script: %w", err)
				}
				return errs
			}
		}
		todo = again
	}
	return errs
}

func (s *Store) result(c Change, res []string, err error, now time.Time) error {
	if err != nil {
		return fmt.Errorf("state: %s: %w", c.Key, err)
	}
	if len(res) != 3 {
		return fmt.Errorf("state: %s: unexpected reply %q", c.Key, res)
	}
	from := res[1]
	switch res[0] {
	case "ok":
		to := string(c.To)
		if c.End {
			to = "(end)"
		}
		s.moves.WithLabelValues(orNone(from), to).Inc()
		s.observe(c, res[2], now)
		return nil
	case "illegal":
		s.illegal.Inc()
		return fmt.Errorf("%w: %s: %s -> %s (%s)", ErrIllegal, c.Key, orNone(from), c.To, c.Trigger)
	case "conflict":
		return fmt.Errorf("%w: %s is %s, expected %s", ErrConflict, c.Key, orNone(from), c.Expect)
	case "notfound":
		return fmt.Errorf("%w: %s", ErrNotFound, c.Key)
	case "fenced":
		return fmt.Errorf("%w: %s", ErrFenced, c.Key)
	}
	return fmt.Errorf("state: %s: unexpected reply %q", c.Key, res)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Move applies one change.
func (s *Store) Move(ctx context.Context, c Change) error { return s.Apply(ctx, c)[0] }

// Load returns the fabric's records by "kind/namespace/name", without
// history.
func (s *Store) Load(ctx context.Context, fabric int64) (map[string]Record, error) {
	raw, err := s.rdb.HGetAll(ctx, s.records(fabric)).Result()
	if err != nil {
		return nil, fmt.Errorf("state: load fabric %d: %w", fabric, err)
	}
	out := make(map[string]Record, len(raw))
	for f, v := range raw {
		var r Record
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("state: decode %d/%s: %w", fabric, f, err)
		}
		out[f] = r
	}
	return out, nil
}

// Field is a key's name inside its fabric, as Load returns it.
func Field(kind, namespace, name string) string {
	return Key{Kind: kind, Namespace: namespace, Name: name}.field()
}

// Get returns a record with its history, newest first. A record that
// ended still has its history for a while: it comes back with Gone set.
func (s *Store) Get(ctx context.Context, k Key) (Record, error) {
	if err := k.validate(); err != nil {
		return Record{}, err
	}
	pipe := s.rdb.Pipeline()
	rec := pipe.HGet(ctx, s.records(k.Fabric), k.field())
	hist := pipe.LRange(ctx, s.history(k), 0, -1)
	_, _ = pipe.Exec(ctx)
	var r Record
	switch raw, err := rec.Bytes(); {
	case errors.Is(err, redis.Nil):
		r = Record{Key: k, Gone: true}
	case err != nil:
		return Record{}, fmt.Errorf("state: get %s: %w", k, err)
	default:
		if err := json.Unmarshal(raw, &r); err != nil {
			return Record{}, fmt.Errorf("state: decode %s: %w", k, err)
		}
	}
	entries, err := hist.Result()
	if err != nil {
		return Record{}, fmt.Errorf("state: history %s: %w", k, err)
	}
	if r.Gone && len(entries) == 0 {
		return Record{}, fmt.Errorf("%w: %s", ErrNotFound, k)
	}
	for _, e := range entries {
		var h Entry
		if err := json.Unmarshal([]byte(e), &h); err == nil {
			r.History = append(r.History, h)
		}
	}
	return r, nil
}

// Fabrics lists the fabrics that have (or had) records, with their names
// where known.
func (s *Store) Fabrics(ctx context.Context) (map[int64]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.key("fabrics")).Result()
	if err != nil {
		return nil, fmt.Errorf("state: fabrics: %w", err)
	}
	names, err := s.rdb.HGetAll(ctx, s.key("names")).Result()
	if err != nil {
		return nil, fmt.Errorf("state: fabric names: %w", err)
	}
	out := map[int64]string{}
	for _, id := range ids {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			out[n] = names[id]
		}
	}
	return out, nil
}

// ForgetFabric takes a fabric NetBox deleted out of Fabrics (its records
// and their history stay for `state show`): drift, the visibility check
// and the API's fabric list stop serving it.
func (s *Store) ForgetFabric(ctx context.Context, fabric int64) error {
	id := strconv.FormatInt(fabric, 10)
	pipe := s.rdb.TxPipeline()
	pipe.SRem(ctx, s.key("fabrics"), id)
	pipe.HDel(ctx, s.key("names"), id)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("state: forget fabric %d: %w", fabric, err)
	}
	return nil
}

// Filter selects records for List; zero fields match everything.
type Filter struct {
	Fabric int64
	Kind   string
	State  State
}

// List returns the matching records sorted by key, without history.
func (s *Store) List(ctx context.Context, f Filter) ([]Record, error) {
	fabrics := []int64{f.Fabric}
	if f.Fabric == 0 {
		all, err := s.Fabrics(ctx)
		if err != nil {
			return nil, err
		}
		fabrics = fabrics[:0]
		for id := range all {
			fabrics = append(fabrics, id)
		}
	}
	var out []Record
	for _, id := range fabrics {
		recs, err := s.Load(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if (f.Kind == "" || strings.EqualFold(r.Kind, f.Kind)) && (f.State == "" || r.State == f.State) {
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Fabric != out[j].Fabric {
			return out[i].Fabric < out[j].Fabric
		}
		return out[i].field() < out[j].field()
	})
	return out, nil
}
