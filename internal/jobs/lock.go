package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
)

// Lock lets one Argo CD installation per fabric run at a time, across
// replicas: a Redis key holding the running job's id, with a TTL.
type Lock struct {
	rdb        redis.UniversalClient
	key, value string
}

var (
	swapScript    = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') end return false`)
	releaseScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)
)

// LockInstall takes fabric's installation lock for ttl. When another
// installation holds it, it returns no lock and that installation's job id.
func (s *Store) LockInstall(ctx context.Context, fabric int64, ttl time.Duration) (*Lock, string, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	l := &Lock{rdb: s.rdb, key: keyspace.Key(s.prefix, "argocd-install", strconv.FormatInt(fabric, 10)),
		value: "starting-" + hex.EncodeToString(b)}
	for {
		ok, err := s.rdb.SetNX(ctx, l.key, l.value, ttl).Result()
		if err != nil || ok {
			if err != nil {
				err = fmt.Errorf("jobs: lock %s: %w", l.key, err)
			}
			return l, "", err
		}
		running, err := s.rdb.Get(ctx, l.key).Result()
		if !errors.Is(err, redis.Nil) {
			if err != nil {
				err = fmt.Errorf("jobs: lock %s: %w", l.key, err)
			}
			return nil, running, err
		}
		// It ended between the two calls: try again.
	}
}

// Hold records the job holding the lock.
func (l *Lock) Hold(ctx context.Context, job string) error {
	if err := swapScript.Run(ctx, l.rdb, []string{l.key}, l.value, job).Err(); err != nil {
		return fmt.Errorf("jobs: lock %s: %w", l.key, err)
	}
	l.value = job
	return nil
}

// Release gives the lock up, if it is still this holder's.
func (l *Lock) Release(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = releaseScript.Run(ctx, l.rdb, []string{l.key}, l.value).Err()
}
