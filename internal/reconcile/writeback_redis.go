package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// RedisVersions is Versions in Redis, shared by the replicas: a fabric's
// new lease holder decides its first writes against what the previous one
// wrote. One hash per fabric, {p}:wb:ver:<fabric>, field "<kind>/<id>",
// value "<last_updated in µs>|<fields as JSON>"; the hash expires
// versionTTL after its last write.
type RedisVersions struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisVersions keeps versions under prefix (HNP_REDIS_PREFIX).
func NewRedisVersions(rdb redis.UniversalClient, prefix string) *RedisVersions {
	return &RedisVersions{rdb: rdb, prefix: prefix}
}

func (v *RedisVersions) key(fabric int64) string {
	return keyspace.Key(v.prefix, "wb", "ver", strconv.FormatInt(fabric, 10))
}

func versionField(k patchKey) string { return k.kind + "/" + strconv.FormatInt(k.id, 10) }

// Newest implements Versions.
func (v *RedisVersions) Newest(ctx context.Context, fabric int64, keys []patchKey) (map[patchKey]netbox.Object, error) {
	out := map[patchKey]netbox.Object{}
	if len(keys) == 0 {
		return out, nil
	}
	fields := make([]string, len(keys))
	for i, k := range keys {
		fields[i] = versionField(k)
	}
	vals, err := v.rdb.HMGet(ctx, v.key(fabric), fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("reconcile: read object versions: %w", err)
	}
	for i, val := range vals {
		s, ok := val.(string)
		if !ok {
			continue
		}
		_, js, ok := strings.Cut(s, "|")
		var o netbox.Object
		if !ok || json.Unmarshal([]byte(js), &o) != nil {
			continue // unreadable: as if unknown
		}
		out[keys[i]] = o
	}
	return out, nil
}

// sawScript sets each field whose stored version is older (or absent);
// ARGV: TTL in ms, then (field, µs, value) triples.
var sawScript = redis.NewScript(`
for i = 2, #ARGV, 3 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  local at = cur and tonumber(string.match(cur, '^(%-?%d+)|'))
  if not at or at < tonumber(ARGV[i+1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+2])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0`)

// Saw implements Versions. Objects without a readable last_updated are
// not kept.
func (v *RedisVersions) Saw(ctx context.Context, fabric int64, objs map[patchKey]netbox.Object) error {
	args := []any{versionTTL.Milliseconds()}
	for k, o := range objs {
		t, err := time.Parse(time.RFC3339Nano, o.LastUpdated)
		if err != nil {
			continue
		}
		js, err := json.Marshal(writtenFields(o))
		if err != nil {
			return fmt.Errorf("reconcile: encode object version: %w", err)
		}
		us := strconv.FormatInt(t.UnixMicro(), 10)
		args = append(args, versionField(k), us, us+"|"+string(js))
	}
	if len(args) == 1 {
		return nil
	}
	if err := sawScript.Run(ctx, v.rdb, []string{v.key(fabric)}, args...).Err(); err != nil {
		return fmt.Errorf("reconcile: record object versions: %w", err)
	}
	return nil
}
