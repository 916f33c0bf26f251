// Package lease decides which replica writes each fabric. A fabric's lease
// lives in Redis with a time to live; taking it increments the fabric's
// fencing token, which every Git push and state record of the holder
// checks (Lease.Check, Lease.Fence), so a replica that lost its lease —
// paused, partitioned, killed — can neither push nor record. A dead
// replica's fabrics move within one TTL; a replica that stops cleanly
// releases its leases at once.
//
// Work is spread over the live replicas (a heartbeat set in Redis):
// background work (Argo CD syncs, drift) takes a free fabric only on its
// preferred replica (rendezvous hashing), and a lease taken for queue work
// elsewhere is given up once idle, so each fabric settles on one replica
// and the fabrics spread over all of them.
package lease

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
)

// Errors of the lease domain.
var (
	// ErrHeld: another replica holds the fabric's lease (see HeldError).
	ErrHeld = errors.New("lease: held by another replica")
	// ErrLost: this replica's lease was taken over (it expired).
	ErrLost = errors.New("lease: lost")
	// ErrStore: Redis did not answer.
	ErrStore = errors.New("lease: store")
)

// HeldError says who holds a fabric's lease and for how long at most.
type HeldError struct {
	Fabric int64
	Holder string
	TTL    time.Duration
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("lease: fabric %d is being written by replica %s (lease ends within %s)", e.Fabric, e.Holder, e.TTL)
}

// Unwrap makes a HeldError match ErrHeld.
func (e *HeldError) Unwrap() error { return ErrHeld }

// UnavailableFor tells the queue to hand the key back without counting an
// attempt: the holder's run covers it, or it is run once the lease moves.
func (e *HeldError) UnavailableFor() time.Duration {
	return min(max(e.TTL/4, 250*time.Millisecond), 2*time.Second)
}

// Options configure a Manager.
type Options struct {
	// Prefix namespaces the Redis keys (keyspace).
	Prefix string
	// TTL is how long a lease lives without renewal (default 15s); it is
	// renewed every TTL/3, so a dead replica's fabrics move within TTL.
	TTL time.Duration
	// Holder names this replica (default host-pid-random); unique per
	// process, so a restarted replica never mistakes an old lease for its
	// own.
	Holder string
	// Idle is how long an unused lease is kept before it is given back to
	// the fabric's preferred replica (default TTL).
	Idle time.Duration
}

// Manager takes, renews and releases this replica's fabric leases.
type Manager struct {
	rdb    redis.UniversalClient
	opts   Options
	logger *slog.Logger
	now    func() time.Time
	m      metrics
	beat   health.Tracker // heartbeats

	mu   sync.Mutex
	held map[int64]*held
	live []string // replicas seen alive at the last heartbeat, sorted
}

type held struct {
	value    string // "<token>|<holder>", the fence
	token    int64
	busy     int
	lastUsed time.Time
}

// New builds a Manager and registers its metrics on reg.
func New(rdb redis.UniversalClient, opts Options, logger *slog.Logger, reg prometheus.Registerer) (*Manager, error) {
	opts.TTL = cmp.Or(opts.TTL, 15*time.Second)
	if opts.TTL < 3*time.Second/10 {
		return nil, fmt.Errorf("lease: ttl %s is too short", opts.TTL)
	}
	opts.Idle = cmp.Or(opts.Idle, opts.TTL)
	opts.Prefix = cmp.Or(opts.Prefix, "hnp")
	if opts.Holder == "" {
		opts.Holder = defaultHolder()
	}
	m := &Manager{rdb: rdb, opts: opts, logger: logger, now: time.Now, held: map[int64]*held{}}
	var err error
	if m.m, err = newMetrics(reg, m.count); err != nil {
		return nil, err
	}
	return m, nil
}

func defaultHolder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%s", cmp.Or(host, "replica"), os.Getpid(), strconv.FormatInt(time.Now().UnixNano()%1e6, 36))
}

// Holder is this replica's name.
func (m *Manager) Holder() string { return m.opts.Holder }

// TTL is the leases' time to live.
func (m *Manager) TTL() time.Duration { return m.opts.TTL }

func (m *Manager) key(fabric int64) string {
	return keyspace.Key(m.opts.Prefix, "lease", strconv.FormatInt(fabric, 10))
}

func (m *Manager) fenceKey(fabric int64) string {
	return keyspace.Key(m.opts.Prefix, "lease-fence", strconv.FormatInt(fabric, 10))
}

func (m *Manager) coverKey(fabric int64) string {
	return keyspace.Key(m.opts.Prefix, "lease-covered", strconv.FormatInt(fabric, 10))
}

func (m *Manager) replicasKey() string { return keyspace.Key(m.opts.Prefix, "replicas") }

func (m *Manager) count() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return float64(len(m.held))
}
