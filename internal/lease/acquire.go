package lease

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// acquireScript takes KEYS[1] (the lease) for ARGV[1] (the holder) for
// ARGV[2] ms, or renews it when the holder already has it. A new lease
// gets the next fencing token from KEYS[2]. The reply is {value, how, ttl}:
// how is "new", "held" (ours, renewed) or "other".
var acquireScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
  local sep = string.find(v, '|', 1, true)
  if sep and string.sub(v, sep + 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {v, 'held', ARGV[2]}
  end
  return {v, 'other', tostring(redis.call('PTTL', KEYS[1]))}
end
local t = redis.call('INCR', KEYS[2])
v = tostring(t) .. '|' .. ARGV[1]
redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
return {v, 'new', ARGV[2]}`)

// Lease is this replica's right to write one fabric, for one run.
type Lease struct {
	m      *Manager
	fabric int64
	value  string
	token  int64
}

// Fence is what a fenced write checks atomically: the lease key still
// holds Value.
type Fence struct{ Key, Value string }

// Acquire takes the fabric's lease for a run (or joins this replica's
// own); Release ends the run. A *HeldError (ErrHeld) means another
// replica holds it.
func (m *Manager) Acquire(ctx context.Context, fabric int64) (*Lease, error) {
	h, err := m.take(ctx, fabric)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	h.busy++
	h.lastUsed = m.now()
	m.mu.Unlock()
	return &Lease{m: m, fabric: fabric, value: h.value, token: h.token}, nil
}

// take asks Redis for the lease and records it as held.
func (m *Manager) take(ctx context.Context, fabric int64) (*held, error) {
	res, err := acquireScript.Run(ctx, m.rdb, []string{m.key(fabric), m.fenceKey(fabric)},
		m.opts.Holder, m.opts.TTL.Milliseconds()).StringSlice()
	if err != nil || len(res) != 3 {
		m.m.acquire.WithLabelValues("error").Inc()
		return nil, fmt.Errorf("%w: acquire fabric %d: %v", ErrStore, fabric, err)
	}
	value, how := res[0], res[1]
	ttl, _ := strconv.ParseInt(res[2], 10, 64)
	m.m.acquire.WithLabelValues(how).Inc()
	if how == "other" {
		m.forget(fabric, "")
		_, holder, _ := strings.Cut(value, "|")
		return nil, &HeldError{Fabric: fabric, Holder: holder, TTL: time.Duration(max(ttl, 0)) * time.Millisecond}
	}
	token, _ := strconv.ParseInt(strings.SplitN(value, "|", 2)[0], 10, 64)
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.held[fabric]
	if h == nil || h.value != value {
		if h != nil {
			m.logger.Warn("fabric lease was lost and taken again; a run of the old lease fails its fence", "fabric_id", fabric)
		}
		h = &held{value: value, token: token, lastUsed: m.now()}
		m.held[fabric] = h
		if how == "new" {
			m.logger.Info("fabric lease taken", "fabric_id", fabric, "token", token, "holder", m.opts.Holder)
		}
	}
	return h, nil
}

// forget drops a lease from the held set (value "" drops whatever is held).
func (m *Manager) forget(fabric int64, value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h := m.held[fabric]; h != nil && (value == "" || h.value == value) {
		delete(m.held, fabric)
	}
}

// Token is the lease's fencing token: it grows with every new holder.
func (l *Lease) Token() int64 { return l.token }

// Fence is what fenced writes check atomically in Redis.
func (l *Lease) Fence() Fence { return Fence{Key: l.m.key(l.fabric), Value: l.value} }

var checkScript = redis.NewScript(`return redis.call('GET', KEYS[1]) == ARGV[1] and 1 or 0`)

// Check returns ErrLost unless this lease is still the fabric's: called
// right before a push, so a replica that lost it never pushes.
func (l *Lease) Check(ctx context.Context) error {
	ok, err := checkScript.Run(ctx, l.m.rdb, []string{l.m.key(l.fabric)}, l.value).Int()
	if err != nil {
		return fmt.Errorf("%w: check fabric %d: %v", ErrStore, l.fabric, err)
	}
	if ok != 1 {
		return l.lost()
	}
	return nil
}

// lost records that this lease was found taken over and is ErrLost.
func (l *Lease) lost() error {
	l.m.m.lost.Inc()
	l.m.forget(l.fabric, l.value)
	return fmt.Errorf("%w: fabric %d (token %d)", ErrLost, l.fabric, l.token)
}

// Release ends this run; the lease itself stays with the replica until
// it has been idle for Options.Idle (the renewer gives it up then).
func (l *Lease) Release() {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if h := l.m.held[l.fabric]; h != nil && h.value == l.value {
		h.busy--
		h.lastUsed = l.m.now()
	}
}

// HeldFence is the fence of the fabric's lease while this replica holds
// it: background work (the Argo CD syncer) records its state moves under
// it.
func (m *Manager) HeldFence(fabric int64) (Fence, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.held[fabric]
	if h == nil {
		return Fence{}, false
	}
	return Fence{Key: m.key(fabric), Value: h.value}, true
}
