package argocd

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/panics"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// States is where the syncer moves objects: committed → pending →
// synced, or drifted when the sync fails, or committed again on timeout.
type States interface {
	Load(ctx context.Context, fabric int64) (map[string]state.Record, error)
	Apply(ctx context.Context, changes ...state.Change) []error
}

// Owner says whether this replica holds a fabric's lease (or just took
// it): only the holder works on the fabric's target. An error counts as
// not owning it.
type Owner interface {
	Own(ctx context.Context, fabric int64) (bool, error)
}

// Fencer is optionally implemented by the Owner: the fence of the
// fabric's lease this replica holds (false: none). The syncer's state
// moves of a fabric are recorded under it (state.WithFence), so a
// replica whose lease moved records nothing (state.ErrFenced).
type Fencer interface {
	Fence(fabric int64) (state.Fence, bool)
}

// Target is a fabric's Application and the commit it must reach.
type Target struct {
	Fabric     int64
	FabricName string
	App        App
	// Repo, when its URL is set, is applied before the Application.
	Repo   Repository
	Commit string
	// Ensured (may be nil) is told after the syncer set up the project,
	// repository and Application: nil when it could, or the error when one
	// of them exists and is not the sidecar's (IsForeign): the fabric's
	// owner must be told; outages are not told. A target read back from
	// Redis (after a restart or a move) has none.
	Ensured func(ctx context.Context, err error)
	// drv, project and where are the fabric's Argo CD (placed): set
	// before each attempt, never stored.
	drv     Driver
	project *Project
	where   string
}

// Options tunes the syncer.
type Options struct {
	// Poll is how often a running sync is checked.
	Poll time.Duration
	// Timeout is how long objects may stay pending before they go back to
	// committed (sync_timeout).
	Timeout time.Duration
	// BusyBackoff is the first wait after "another operation is already
	// in progress"; it doubles up to Poll*20.
	BusyBackoff time.Duration
	// RetryBase and RetryMax bound the wait before a fabric whose sync
	// failed (Argo CD or the cluster unreachable, a breaker open) is tried
	// again: doubling from RetryBase, capped at RetryMax, jittered (1s, 1m).
	RetryBase, RetryMax time.Duration
	// Project, when set, is the AppProject ensured before each
	// Application (the Applications name it).
	Project *Project
	// Naming is the policy of Application names and namespaces
	// (reconcile reads it through Naming).
	Naming Naming
	// Panics records a panic while reaching a target: that attempt fails
	// and is retried like any other (nil: not recorded, still recovered).
	Panics *panics.Catcher
	// Redis keeps the targets not reached yet, each fabric's health and
	// failures under {Prefix}:argocd:…, so a restart or another replica
	// takes a pending sync up again and every replica reports the same
	// health. Nil: kept in memory (one replica; lost on restart).
	Redis  redis.UniversalClient
	Prefix string
	// Owner decides which fabrics this replica works on; nil: all.
	Owner Owner
	// Rescan is how often the targets in Redis are read again for fabrics
	// this replica (now) owns (30s).
	Rescan time.Duration
	// RepoCredentials completes the repository of a target read back from
	// Redis (credentials are never written there); nil: such a target's
	// repository is not applied again (the Application still is).
	RepoCredentials func(url string) Repository
	// Places says which Argo CD each fabric's target goes to; nil: the
	// driver NewSyncer was given, for every fabric.
	Places Places
}

// Syncer asks Argo CD to sync each fabric to the commit the sidecar
// pushed and moves the fabric's objects through pending to synced (or
// drifted with Argo CD's message). One worker per fabric; a newer commit
// replaces an older one not yet started.
type Syncer struct {
	driver Driver
	states States
	store  targetStore
	logger *slog.Logger
	opts   Options
	// show takes the states the syncer moved to NetBox (reconcile's
	// ShowStates), without a reconcile.
	show func(ctx context.Context, fabric int64, keys []state.Key)
	// putMu orders this replica's Puts of targets (Committed, and the
	// retry of one whose Put failed) so an older one never lands last.
	putMu  sync.Mutex
	mu     sync.Mutex
	want   map[int64]job
	active map[int64]bool
	// delayed fabrics wait for a retry (retryLater): a rescan leaves them.
	delayed map[int64]bool
	wake    chan struct{}
	// syncs counts the targets' outcomes (hnp_argocd_syncs_total).
	syncs *prometheus.CounterVec
}

// job is a target, its Seq in the store (0: not stored yet: its Put
// failed and is tried again before it is worked) and when it was asked.
type job struct {
	t   Target
	seq int64
	at  time.Time
	// counted: the target's result is in hnp_argocd_syncs_total already
	// (its first attempt failed); a retry does not count again.
	counted bool
}

// NewSyncer builds a syncer; show (may be nil) is told the objects whose
// state it moved.
func NewSyncer(d Driver, st States, opts Options, show func(ctx context.Context, fabric int64, keys []state.Key), logger *slog.Logger) *Syncer {
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.BusyBackoff <= 0 {
		opts.BusyBackoff = time.Second
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = time.Second
	}
	if opts.RetryMax < opts.RetryBase {
		opts.RetryMax = max(time.Minute, opts.RetryBase)
	}
	if opts.Rescan <= 0 {
		opts.Rescan = 30 * time.Second
	}
	if show == nil {
		show = func(context.Context, int64, []state.Key) {}
	}
	var store targetStore = newMemTargets()
	if opts.Redis != nil {
		store = newRedisTargets(opts.Redis, opts.Prefix)
	}
	return &Syncer{driver: d, states: st, store: store, logger: logger, opts: opts, show: show,
		want: map[int64]job{}, active: map[int64]bool{}, delayed: map[int64]bool{}, wake: make(chan struct{}, 1),
		syncs: newSyncCounter()}
}

// Naming is the policy of Application names and namespaces.
func (s *Syncer) Naming() Naming { return s.opts.Naming }

// Health is the last Argo CD health seen for a fabric's Application, by
// whichever replica saw it ("" unknown).
func (s *Syncer) Health(fabric int64) string {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	h, err := s.store.Health(ctx, fabric)
	if err != nil {
		s.logger.Debug("argo cd health not read", "fabric_id", fabric, "err", err)
	}
	return h
}
