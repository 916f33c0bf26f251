package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
)

// DefaultStaleAfter is how long a job may stay queued: a fabric's re-sync
// normally starts within seconds, and a started job is running, retrying
// or ended. One still queued after this was never picked up (its queue
// entry was dropped behind newer hints of the fabric, or removed with its
// dead letter), so it is shown failed and replaced by the next request.
const DefaultStaleAfter = time.Hour

// ErrBusy: the fabric's queued job changed under a concurrent request too
// often; the caller may retry.
var ErrBusy = errors.New("jobs: concurrent re-sync requests")

// Resync returns the fabric's queued re-sync job when there is one, or
// records a new one (created). There is at most one queued re-sync per
// fabric, so any number of requests while one waits leave one job and one
// queue entry.
func (s *Store) Resync(ctx context.Context, fabric int64) (j Job, created bool, err error) {
	ptr := keyspace.Key(s.prefix, "jobq", strconv.FormatInt(fabric, 10))
	for range 5 {
		err = s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			id, err := tx.Get(ctx, ptr).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("jobs: queued job of fabric %d: %w", fabric, err)
			}
			if id != "" {
				old, err := s.get(ctx, tx, id)
				switch {
				case errors.Is(err, ErrNotFound):
				case err != nil:
					return err
				case old.State == Queued && !s.stale(old):
					j, created = old, false
					return nil
				}
			}
			j, created = s.newJob(fabric, ""), true
			raw, err := encode(j)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, keyspace.Key(s.prefix, "job", j.ID), raw, s.ttl)
				p.Set(ctx, ptr, j.ID, s.ttl)
				return nil
			})
			return err
		}, ptr)
		if !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	if errors.Is(err, redis.TxFailedErr) {
		return Job{}, false, ErrBusy
	}
	if err != nil {
		return Job{}, false, fmt.Errorf("jobs: re-sync of fabric %d: %w", fabric, err)
	}
	return j, created, nil
}

// stale reports a job queued for longer than the store lets one wait.
func (s *Store) stale(j Job) bool {
	return j.State == Queued && s.now().Sub(j.CreatedAt) > s.staleAfter
}

// showStale presents a job that was never picked up as what it is.
func (s *Store) showStale(j Job) Job {
	if s.stale(j) {
		j.State = Failed
		j.Error = "not started within " + s.staleAfter.String() +
			": its queue entry was superseded or dropped; request a new re-sync"
	}
	return j
}
