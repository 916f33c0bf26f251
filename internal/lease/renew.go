package lease

import (
	"context"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// renewScript extends KEYS[1] by ARGV[2] ms while it holds ARGV[1].
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

// releaseScript deletes KEYS[1] while it holds ARGV[1].
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`)

// Run renews this replica's leases and heartbeat every TTL/3 until ctx
// ends, and gives idle leases back to their fabrics' preferred replicas.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.opts.TTL / 3)
	defer t.Stop()
	for {
		m.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick is one round of Run: heartbeat, renewals, idle leases given up.
func (m *Manager) Tick(ctx context.Context) {
	if err := m.heartbeat(ctx); err != nil {
		m.beat.Failure(m.now(), err)
		m.logger.Warn("replica heartbeat not recorded", "err", err)
	} else {
		m.beat.Success(m.now())
	}
	m.mu.Lock()
	type one struct {
		fabric int64
		value  string
		give   bool
	}
	var todo []one
	for f, h := range m.held {
		idle := h.busy == 0 && m.now().Sub(h.lastUsed) > m.opts.Idle
		todo = append(todo, one{f, h.value, idle && m.preferredLocked(f) != m.opts.Holder})
	}
	m.mu.Unlock()
	for _, o := range todo {
		if o.give {
			if err := releaseScript.Run(ctx, m.rdb, []string{m.key(o.fabric)}, o.value).Err(); err != nil {
				m.logger.Warn("idle fabric lease not released; it expires", "fabric_id", o.fabric, "err", err)
			}
			m.forget(o.fabric, o.value)
			m.logger.Info("idle fabric lease given back to its preferred replica", "fabric_id", o.fabric)
			continue
		}
		ok, err := renewScript.Run(ctx, m.rdb, []string{m.key(o.fabric)}, o.value, m.opts.TTL.Milliseconds()).Int()
		switch {
		case err != nil:
			m.logger.Warn("fabric lease not renewed", "fabric_id", o.fabric, "err", err)
		case ok != 1:
			m.m.lost.Inc()
			m.forget(o.fabric, o.value)
			m.logger.Warn("fabric lease lost (expired and taken by another replica); its runs fail their fence", "fabric_id", o.fabric)
		}
	}
}

// heartbeat records this replica as alive until now+TTL and reads the
// others.
func (m *Manager) heartbeat(ctx context.Context) error {
	now := m.now()
	pipe := m.rdb.TxPipeline()
	pipe.ZAdd(ctx, m.replicasKey(), redis.Z{Score: float64(now.Add(m.opts.TTL).UnixMilli()), Member: m.opts.Holder})
	pipe.ZRemRangeByScore(ctx, m.replicasKey(), "-inf", strconv.FormatInt(now.UnixMilli(), 10))
	live := pipe.ZRange(ctx, m.replicasKey(), 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	names := live.Val()
	sort.Strings(names)
	m.mu.Lock()
	m.live = names
	m.mu.Unlock()
	m.m.replicas.Set(float64(len(names)))
	return nil
}

// preferredLocked is the live replica a fabric settles on (rendezvous
// hashing: adding or removing a replica moves only its share). m.mu held.
func (m *Manager) preferredLocked(fabric int64) string {
	if len(m.live) == 0 {
		return m.opts.Holder // no heartbeat yet: alone as far as it knows
	}
	best, bestScore := "", uint64(0)
	for _, r := range m.live {
		h := fnv.New64a()
		_, _ = h.Write([]byte(r + "/" + strconv.FormatInt(fabric, 10)))
		if s := mix(h.Sum64()); best == "" || s > bestScore {
			best, bestScore = r, s
		}
	}
	return best
}

// mix is splitmix64's finalizer: FNV alone keeps names that differ in one
// character too close for a fair spread.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Own says whether this replica does the fabric's background work (Argo
// CD syncs, drift): true when it holds the lease, or the fabric prefers it
// and the lease was free.
func (m *Manager) Own(ctx context.Context, fabric int64) (bool, error) {
	m.mu.Lock()
	_, has := m.held[fabric]
	preferred := m.preferredLocked(fabric) == m.opts.Holder
	m.mu.Unlock()
	if !has && !preferred {
		return false, nil
	}
	if _, err := m.take(ctx, fabric); err != nil {
		if _, ok := err.(*HeldError); ok {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Stop releases every lease this replica holds and its heartbeat, so its
// fabrics move at once rather than after a TTL.
func (m *Manager) Stop(ctx context.Context) {
	m.mu.Lock()
	all := m.held
	m.held = map[int64]*held{}
	m.mu.Unlock()
	for f, h := range all {
		if err := releaseScript.Run(ctx, m.rdb, []string{m.key(f)}, h.value).Err(); err != nil {
			m.logger.Warn("fabric lease not released at stop; it expires", "fabric_id", f, "err", err)
		}
	}
	if err := m.rdb.ZRem(ctx, m.replicasKey(), m.opts.Holder).Err(); err != nil {
		m.logger.Warn("replica heartbeat not removed at stop", "err", err)
	}
}
