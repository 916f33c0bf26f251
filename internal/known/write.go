package known

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// replaceScript: KEYS objects, meta, fence key; ARGV fence value ("" for
// none), fingerprint, tip, then field/value pairs. Returns the new
// generation, or -1 when fenced.
var replaceScript = redis.NewScript(`
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end
redis.call('HSET', KEYS[2], 'fp', ARGV[2], 'tip', ARGV[3])
return redis.call('HINCRBY', KEYS[2], 'gen', 1)
`)

// updateScript: KEYS objects, meta, fence key; ARGV fence value, expected
// generation, tip, field to delete (""), field to put (""), its value.
// Returns the new generation, -1 when fenced, -2 when stale.
var updateScript = redis.NewScript(`
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return -1 end
if redis.call('HGET', KEYS[2], 'gen') ~= ARGV[2] then return -2 end
if ARGV[4] ~= '' then redis.call('HDEL', KEYS[1], ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], ARGV[5], ARGV[6]) end
redis.call('HSET', KEYS[2], 'tip', ARGV[3])
return redis.call('HINCRBY', KEYS[2], 'gen', 1)
`)

func fenceArgs(fence *Fence, meta string) (string, string) {
	if fence == nil || fence.Key == "" {
		return meta, ""
	}
	return fence.Key, fence.Value
}

// Replace makes entries the fabric's whole snapshot, matching Git at tip
// under fingerprint (a full reconcile). fence (may be nil) is the lease
// the write must still hold.
func (s *Store) Replace(ctx context.Context, fabric int64, fence *Fence, fingerprint, tip string, entries []Entry) error {
	fk, fv := fenceArgs(fence, s.meta(fabric))
	args := make([]any, 0, 3+2*len(entries))
	args = append(args, fv, fingerprint, tip)
	f := &Fabric{Fingerprint: fingerprint, Tip: tip, Entries: make(map[string]Entry, len(entries))}
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("known: encode %s: %w", e.Field(), err)
		}
		args = append(args, e.Field(), b)
		f.Entries[e.Field()] = e
	}
	gen, err := replaceScript.Run(ctx, s.rdb, []string{s.objects(fabric), s.meta(fabric), fk}, args...).Int64()
	if err != nil {
		s.forget(fabric)
		return fmt.Errorf("known: replace fabric %d: %w", fabric, err)
	}
	if gen < 0 {
		return ErrFenced
	}
	f.Gen = gen
	s.keep(fabric, f)
	return nil
}

// Update changes one object of the snapshot f (as loaded) and moves its
// tip: put (may be nil) is stored, del (may be "") removed. derived (may
// be nil) is what the caller already computed from the new generation
// (see Fabric.Derived). ErrStale when another write came since f was
// loaded.
func (s *Store) Update(ctx context.Context, fabric int64, fence *Fence, f *Fabric, tip string, put *Entry, del string, derived any) error {
	fk, fv := fenceArgs(fence, s.meta(fabric))
	putField, putValue := "", []byte(nil)
	if put != nil {
		b, err := json.Marshal(put)
		if err != nil {
			return fmt.Errorf("known: encode %s: %w", put.Field(), err)
		}
		putField, putValue = put.Field(), b
	}
	gen, err := updateScript.Run(ctx, s.rdb, []string{s.objects(fabric), s.meta(fabric), fk},
		fv, f.Gen, tip, del, putField, putValue).Int64()
	switch {
	case err != nil:
		s.forget(fabric)
		return fmt.Errorf("known: update fabric %d: %w", fabric, err)
	case gen == -1:
		return ErrFenced
	case gen == -2:
		s.forget(fabric)
		return ErrStale
	}
	n := f.with(put, del, tip, gen)
	n.derived = derived
	s.keep(fabric, n)
	return nil
}

// dropScript: KEYS objects, meta, fence key; ARGV fence value. The
// generation survives (it only grows), so no replica's in-memory copy of
// an older snapshot can match a later one. Returns -1 when fenced.
var dropScript = redis.NewScript(`
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], 'fp', 'tip')
return redis.call('HINCRBY', KEYS[2], 'gen', 1)
`)

// Drop removes the fabric's snapshot: its next reconcile is a full one.
// fence (may be nil) is the lease the write must still hold.
func (s *Store) Drop(ctx context.Context, fabric int64, fence *Fence) error {
	s.forget(fabric)
	fk, fv := fenceArgs(fence, s.meta(fabric))
	gen, err := dropScript.Run(ctx, s.rdb, []string{s.objects(fabric), s.meta(fabric), fk}, fv).Int64()
	switch {
	case err != nil:
		return fmt.Errorf("known: drop fabric %d: %w", fabric, err)
	case gen < 0:
		return ErrFenced
	}
	return nil
}

// Forget removes every key of a fabric deleted in NetBox.
func (s *Store) Forget(ctx context.Context, fabric int64) error {
	s.forget(fabric)
	if err := s.rdb.Del(ctx, s.meta(fabric), s.objects(fabric)).Err(); err != nil {
		return fmt.Errorf("known: forget fabric %d: %w", fabric, err)
	}
	return nil
}
