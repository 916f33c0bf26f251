package problems

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Targets of a write-back, for the refusals metric.
const (
	TargetObject = "object"
	TargetFabric = "fabric"
)

// Digest names a set of values: equal maps, equal digests (encoding/json
// sorts map keys).
func Digest(fields map[string]any) string {
	b, _ := json.Marshal(fields)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:12])
}

func refusedField(fabric int64, target string) string {
	return strconv.FormatInt(fabric, 10) + "/" + target
}

// refuse stores ARGV[2] under ARGV[1] unless it is there already; 1 when
// it stored.
var refuse = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`)

// Refused records that NetBox refused the values with digest for target
// (TargetFabric, or an object as "<kind>/<id>") of fabric. first is false
// when these same values were refused before: the user was told then.
func (s *Store) Refused(ctx context.Context, fabric int64, target, digest string) (first bool, err error) {
	n, err := refuse.Run(ctx, s.rdb, []string{s.refused}, refusedField(fabric, target), digest).Int()
	if err != nil {
		return false, fmt.Errorf("%w: record refusal: %w", ErrStore, err)
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

// WasRefused returns which of the targets (target → digest of the values
// about to be written) NetBox already refused with exactly those values:
// writing them again would only be refused again.
func (s *Store) WasRefused(ctx context.Context, fabric int64, targets map[string]string) (map[string]bool, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(targets))
	fields := make([]string, 0, len(targets))
	for t := range targets {
		names = append(names, t)
		fields = append(fields, refusedField(fabric, t))
	}
	vals, err := s.rdb.HMGet(ctx, s.refused, fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: read refusals: %w", ErrStore, err)
	}
	out := map[string]bool{}
	for i, v := range vals {
		if d, ok := v.(string); ok && d == targets[names[i]] {
			out[names[i]] = true
		}
	}
	return out, nil
}

// Accepted forgets the refusals of targets: NetBox took their write-back.
func (s *Store) Accepted(ctx context.Context, fabric int64, targets ...string) error {
	if len(targets) == 0 {
		return nil
	}
	fields := make([]string, len(targets))
	for i, t := range targets {
		fields[i] = refusedField(fabric, t)
	}
	if err := s.rdb.HDel(ctx, s.refused, fields...).Err(); err != nil {
		return fmt.Errorf("%w: forget refusals: %w", ErrStore, err)
	}
	return nil
}
