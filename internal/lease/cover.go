package lease

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// coverScript raises KEYS[2] (a fabric's coverage, unix ns) to ARGV[2]
// when KEYS[1] still holds ARGV[1] (the fence); 1 when the lease held.
var coverScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('SET', KEYS[2], ARGV[2]) end
return 1`)

// Covered is when the fabric's last successful full run started reading
// NetBox: every change whose webhook arrived before it is in Git. Zero
// when none is known. Any replica may read it.
func (m *Manager) Covered(ctx context.Context, fabric int64) (time.Time, error) {
	v, err := m.rdb.Get(ctx, m.coverKey(fabric)).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: covered of fabric %d: %v", ErrStore, fabric, err)
	}
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("lease: covered of fabric %d: %q: %w", fabric, v, err)
	}
	return time.Unix(0, ns), nil
}

// Cover records that a run that started at start succeeded; it never
// moves coverage back, and a lease that was lost records nothing (ErrLost).
func (l *Lease) Cover(ctx context.Context, start time.Time) error {
	ok, err := coverScript.Run(ctx, l.m.rdb, []string{l.m.key(l.fabric), l.m.coverKey(l.fabric)},
		l.value, start.UnixNano()).Int()
	if err != nil {
		return fmt.Errorf("%w: cover fabric %d: %v", ErrStore, l.fabric, err)
	}
	if ok != 1 {
		return l.lost()
	}
	return nil
}
