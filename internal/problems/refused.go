package problems

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
)

// Targets of a write-back, for the refusals metric.
const (
	TargetObject = "object"
	TargetFabric = "fabric"
)

// ValueRefusalTTL is how long a refusal of values alone (Whole false) is
// trusted: after it the values are offered again once, so an upgraded
// NetBox that takes them now is noticed.
const ValueRefusalTTL = time.Hour

// Refusal is what NetBox refused to save for one target (an object, or
// the fabric) and why.
type Refusal struct {
	// Fields are the values refused.
	Fields map[string]any `json:"fields"`
	// Whole: NetBox refused the write because of the target's other data
	// (a fabric whose watch_crd_types is blank), not these values; an edit
	// of the target (LastUpdated changes) may fix it. Otherwise these values
	// themselves are refused (a CHECK constraint) and are not sent again.
	Whole       bool      `json:"whole"`
	LastUpdated string    `json:"last_updated,omitempty"`
	Answer      string    `json:"answer"`
	Since       time.Time `json:"since"`
	// Name is the fabric's, for health (TargetFabric only).
	Name string `json:"name,omitempty"`
}

// Digest names a set of values: equal maps, equal digests (encoding/json
// sorts map keys).
func Digest(fields map[string]any) string {
	b, _ := json.Marshal(fields)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:12])
}

// digest names what makes two refusals the same.
func (r Refusal) digest() string {
	return Digest(map[string]any{"fields": r.Fields, "whole": r.Whole, "last_updated": r.LastUpdated})
}

// Expired: a refusal of values alone older than ValueRefusalTTL.
func (r Refusal) Expired(now time.Time) bool { return !r.Whole && now.Sub(r.Since) > ValueRefusalTTL }

func (s *Store) refusedKey(fabric int64) string {
	return keyspace.Key(s.prefix, "problems", "refused", strconv.FormatInt(fabric, 10))
}

// refuse stores ARGV[2] (JSON with a digest, ARGV[3]) under ARGV[1],
// renewing its time; 1 when the stored one had another digest (or none).
var refuse = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local same = false
if cur then
  local ok, d = pcall(cjson.decode, cur)
  same = ok and d.digest == ARGV[3]
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if same then return 0 end
return 1`)

type stored struct {
	Refusal
	Digest string `json:"digest"`
}

// Refused records that NetBox refused r for target (TargetFabric, or an
// object as "<kind>/<id>") of fabric. first is false when the same
// refusal was recorded before: the user was told then.
func (s *Store) Refused(ctx context.Context, fabric int64, target string, r Refusal) (first bool, err error) {
	if r.Since.IsZero() {
		r.Since = s.now().UTC()
	}
	st := stored{Refusal: r, Digest: r.digest()}
	b, err := json.Marshal(st)
	if err != nil {
		return false, fmt.Errorf("problems: encode refusal: %w", err)
	}
	n, err := refuse.Run(ctx, s.rdb, []string{s.refusedKey(fabric)}, target, b, st.Digest).Int()
	if err != nil {
		return false, fmt.Errorf("%w: record refusal: %w", ErrStore, err)
	}
	if target == TargetFabric && r.Whole {
		if err := s.rdb.HSet(ctx, s.fabricRefusals, strconv.FormatInt(fabric, 10), b).Err(); err != nil {
			return false, fmt.Errorf("%w: record refusal: %w", ErrStore, err)
		}
	}
	if n == 1 {
		metric := TargetObject
		if target == TargetFabric {
			metric = TargetFabric
		}
		s.m.refused.WithLabelValues(metric).Inc()
	}
	return n == 1, nil
}

// Refusals returns the recorded refusals of targets of fabric.
func (s *Store) Refusals(ctx context.Context, fabric int64, targets []string) (map[string]Refusal, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.refusedKey(fabric), targets...).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: read refusals: %w", ErrStore, err)
	}
	out := map[string]Refusal{}
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok {
			continue
		}
		var st stored
		if json.Unmarshal([]byte(raw), &st) == nil {
			out[targets[i]] = st.Refusal
		}
	}
	return out, nil
}

// Accepted forgets the refusals of targets: NetBox took their write-back.
func (s *Store) Accepted(ctx context.Context, fabric int64, targets ...string) error {
	if len(targets) == 0 {
		return nil
	}
	pipe := s.rdb.TxPipeline()
	pipe.HDel(ctx, s.refusedKey(fabric), targets...)
	for _, t := range targets {
		if t == TargetFabric {
			pipe.HDel(ctx, s.fabricRefusals, strconv.FormatInt(fabric, 10))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%w: forget refusals: %w", ErrStore, err)
	}
	return nil
}

// Forget drops everything recorded about fabric (it was deleted in NetBox):
// its problem and its refused write-backs.
func (s *Store) Forget(ctx context.Context, fabric int64) error {
	id := strconv.FormatInt(fabric, 10)
	pipe := s.rdb.TxPipeline()
	pipe.Del(ctx, s.refusedKey(fabric))
	pipe.HDel(ctx, s.fabricRefusals, id)
	pipe.HDel(ctx, s.fabrics, id)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%w: forget fabric %d: %w", ErrStore, fabric, err)
	}
	return nil
}

// FabricRefusal is a fabric whose every write-back NetBox refuses.
type FabricRefusal struct {
	Fabric int64     `json:"fabric"`
	Name   string    `json:"name"`
	Answer string    `json:"answer"`
	Since  time.Time `json:"since"`
}

// FabricRefusals lists the fabrics whose data makes NetBox refuse their
// write-back (Whole refusals of TargetFabric), by id.
func (s *Store) FabricRefusals(ctx context.Context) ([]FabricRefusal, error) {
	all, err := s.rdb.HGetAll(ctx, s.fabricRefusals).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: list refusals: %w", ErrStore, err)
	}
	out := make([]FabricRefusal, 0, len(all))
	for id, raw := range all {
		var st stored
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || json.Unmarshal([]byte(raw), &st) != nil {
			continue
		}
		out = append(out, FabricRefusal{Fabric: n, Name: st.Name, Answer: st.Answer, Since: st.Since})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Fabric < out[j].Fabric })
	return out, nil
}
