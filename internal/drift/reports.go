package drift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
)

// ErrReports: the last reports could not be read or written.
var ErrReports = errors.New("kube: drift reports")

// Owner says whether this replica holds a fabric's lease (or just took
// it): only the holder checks the fabric periodically. An error counts
// as not owning it.
type Owner interface {
	Own(ctx context.Context, fabric int64) (bool, error)
}

// reportStore keeps each fabric's last report.
type reportStore interface {
	Save(ctx context.Context, r Report) error
	Load(ctx context.Context, fabric int64) (Report, bool, error)
}

// redisReports keeps them as JSON under {prefix}:drift:report:<fabric>,
// expiring after ttl (a few check periods: a report nobody refreshes
// ends), so every replica reads the same.
type redisReports struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
}

func (r *redisReports) key(fabric int64) string {
	return keyspace.Key(r.prefix, "drift", "report", strconv.FormatInt(fabric, 10))
}

func (r *redisReports) Save(ctx context.Context, rep Report) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("%w: encode: %w", ErrReports, err)
	}
	if err := r.rdb.Set(ctx, r.key(rep.Fabric), b, r.ttl).Err(); err != nil {
		return fmt.Errorf("%w: save fabric %d: %w", ErrReports, rep.Fabric, err)
	}
	return nil
}

func (r *redisReports) Load(ctx context.Context, fabric int64) (Report, bool, error) {
	b, err := r.rdb.Get(ctx, r.key(fabric)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Report{}, false, nil
	}
	if err != nil {
		return Report{}, false, fmt.Errorf("%w: load fabric %d: %w", ErrReports, fabric, err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return Report{}, false, fmt.Errorf("%w: decode fabric %d: %w", ErrReports, fabric, err)
	}
	return rep, true, nil
}

// memReports is the store of a Detector without Redis (one replica).
type memReports struct {
	mu   sync.Mutex
	last map[int64]Report
}

func (m *memReports) Save(_ context.Context, rep Report) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last[rep.Fabric] = rep
	return nil
}

func (m *memReports) Load(_ context.Context, fabric int64) (Report, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.last[fabric]
	return r, ok, nil
}
