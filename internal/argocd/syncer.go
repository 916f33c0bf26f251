package argocd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/health"
	"github.com/githedgehog/hnp-sidecar/internal/panics"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// States is where the syncer moves objects: committed → pending →
// synced, or drifted when the sync fails, or committed again on timeout.
type States interface {
	Load(ctx context.Context, fabric int64) (map[string]state.Record, error)
	Apply(ctx context.Context, changes ...state.Change) []error
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
	// owner must be told; outages are not told.
	Ensured func(ctx context.Context, err error)
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
}

// Syncer asks Argo CD to sync each fabric to the commit the sidecar
// pushed and moves the fabric's objects through pending to synced (or
// drifted with Argo CD's message). One worker per fabric; a newer commit
// replaces an older one not yet started.
type Syncer struct {
	driver Driver
	states States
	logger *slog.Logger
	opts   Options
	// show takes the states the syncer moved to NetBox (reconcile's
	// ShowStates), without a reconcile.
	show    func(ctx context.Context, fabric int64, keys []state.Key)
	mu      sync.Mutex
	want    map[int64]Target
	active  map[int64]bool
	healthy map[int64]string
	// failures counts each fabric's failed attempts in a row.
	failures map[int64]int
	wake     chan struct{}
	tracker  health.Tracker
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
	if show == nil {
		show = func(context.Context, int64, []state.Key) {}
	}
	return &Syncer{driver: d, states: st, logger: logger, opts: opts, show: show,
		want: map[int64]Target{}, active: map[int64]bool{}, healthy: map[int64]string{}, failures: map[int64]int{},
		wake: make(chan struct{}, 1)}
}

// Committed asks for fabric t.Fabric to reach t.Commit. It never blocks.
func (s *Syncer) Committed(t Target) {
	s.mu.Lock()
	s.want[t.Fabric] = t
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Naming is the policy of Application names and namespaces.
func (s *Syncer) Naming() Naming { return s.opts.Naming }

// Health is the last Argo CD health seen for a fabric's Application.
func (s *Syncer) Health(fabric int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.healthy[fabric]
}

// Report is the syncer's part of /api/v1/health.
func (s *Syncer) Report() health.Report {
	st := health.OK
	if s.tracker.FailingSinceSuccess() {
		st = health.Degraded
	}
	return s.tracker.Report(st)
}

// Run works until ctx ends; workers stop with it.
func (s *Syncer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		s.mu.Lock()
		for id := range s.want {
			if !s.active[id] {
				s.active[id] = true
				wg.Go(func() { s.work(ctx, id) })
			}
		}
		s.mu.Unlock()
	}
}

// work handles one fabric's targets until none is waiting.
func (s *Syncer) work(ctx context.Context, fabric int64) {
	for {
		s.mu.Lock()
		t, ok := s.want[fabric]
		delete(s.want, fabric)
		if !ok || ctx.Err() != nil {
			s.active[fabric] = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		err := s.opts.Panics.Do("argocd.syncer", func() error { return s.reach(ctx, t) })
		switch {
		case err == nil:
			s.tracker.Success(time.Now())
			s.mu.Lock()
			delete(s.failures, fabric)
			s.mu.Unlock()
		case IsForeign(err):
			// Argo CD answered: an object of ours is someone else's. Not an
			// outage (health stays) and not retried: the fabric is told
			// (Ensured) and its next run offers it again.
			s.mu.Lock()
			delete(s.failures, fabric)
			s.mu.Unlock()
			s.logger.Warn("argo cd not touched: an object of that name is not the sidecar's; shown on the fabric", "fabric", t.FabricName,
				"application", t.App.Name, "err", err)
		case ctx.Err() == nil:
			s.tracker.Failure(time.Now(), err)
			delay := s.retryLater(ctx, t, err)
			s.logger.Warn("argo cd sync not done; tried again unless a newer commit comes first", "fabric", t.FabricName,
				"application", t.App.Name, "commit", t.Commit, "retry_in", delay.String(), "err", err)
		}
	}
}

// retryLater offers t again after a capped, jittered backoff (at least as
// long as an open breaker says), unless a newer target came meanwhile.
func (s *Syncer) retryLater(ctx context.Context, t Target, err error) time.Duration {
	s.mu.Lock()
	s.failures[t.Fabric]++
	n := s.failures[t.Fabric]
	s.mu.Unlock()
	delay := s.opts.RetryBase << min(n-1, 16)
	if delay > s.opts.RetryMax || delay <= 0 {
		delay = s.opts.RetryMax
	}
	delay = delay/2 + rand.N(delay/2+1) //nolint:gosec // jitter, not security
	var open interface{ UnavailableFor() time.Duration }
	if errors.As(err, &open) {
		delay = max(delay, open.UnavailableFor())
	}
	time.AfterFunc(delay, func() {
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		if _, newer := s.want[t.Fabric]; !newer {
			s.want[t.Fabric] = t
		}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	})
	return delay
}

func (s *Syncer) newer(fabric int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.want[fabric]
	return ok
}

// reach makes the Application sync to t.Commit and records the outcome.
func (s *Syncer) reach(ctx context.Context, t Target) error {
	recs, err := s.states.Load(ctx, t.Fabric)
	if err != nil {
		return err
	}
	var start, pending []state.Record
	for _, r := range recs {
		switch {
		case r.State == state.Committed, r.State == state.Drifted && r.Commit != t.Commit:
			start = append(start, r)
		case r.State == state.Pending:
			pending = append(pending, r)
		}
	}
	if len(start) == 0 && len(pending) == 0 {
		return nil
	}
	if err := s.ensure(ctx, t); err != nil {
		return err
	}
	if err := s.driver.Refresh(ctx, t.App.Namespace, t.App.Name); err != nil {
		return err
	}
	if err := s.requestSync(ctx, t); err != nil {
		return err
	}
	var moves []state.Change
	for _, r := range start {
		moves = append(moves, state.Change{Key: r.Key, To: state.Pending, Expect: r.State, Commit: t.Commit,
			Reason: "Argo CD asked to sync " + state.ShortCommit(t.Commit)})
	}
	s.apply(ctx, t, moves)
	pending = append(pending, start...)
	return s.watch(ctx, t, pending)
}

// ensure sets up the project, the repository and the Application, and
// tells t.Ensured how that went unless Argo CD or the cluster failed.
func (s *Syncer) ensure(ctx context.Context, t Target) error {
	err := s.ensureAll(ctx, t)
	if t.Ensured != nil && (err == nil || IsForeign(err)) {
		t.Ensured(ctx, err)
	}
	return err
}

func (s *Syncer) ensureAll(ctx context.Context, t Target) error {
	if s.opts.Project != nil {
		if err := s.driver.EnsureProject(ctx, *s.opts.Project); err != nil {
			return err
		}
	}
	if t.Repo.URL != "" {
		if err := s.driver.EnsureRepository(ctx, t.App.Namespace, t.Repo); err != nil {
			return err
		}
	}
	return s.driver.EnsureApplication(ctx, t.App)
}

// requestSync asks for the sync, backing off while another operation
// runs; an operation already running for the commit (an automated sync)
// is as good as ours.
func (s *Syncer) requestSync(ctx context.Context, t Target) error {
	deadline := time.Now().Add(s.opts.Timeout)
	wait := s.opts.BusyBackoff
	for {
		err := s.driver.Sync(ctx, t.App.Namespace, t.App.Name, t.Commit, t.App.Prune)
		if !errors.Is(err, ErrBusy) {
			return err
		}
		st, serr := s.driver.Status(ctx, t.App.Namespace, t.App.Name)
		if serr == nil && (st.Applied(t.Commit) || (st.Running && st.OperationRevision == t.Commit)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("argocd: %s/%s busy for %s: %w", t.App.Namespace, t.App.Name, s.opts.Timeout, ErrBusy)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, s.opts.Poll*20)
	}
}

// watch polls the Application until the sync of t.Commit ends, then
// settles the pending objects. While Argo CD retries a failing sync (the
// Application's retry policy), the objects whose resources already failed
// or synced are settled and the rest wait.
func (s *Syncer) watch(ctx context.Context, t Target, pending []state.Record) error {
	deadline := time.Now().Add(s.opts.Timeout)
	asked := time.Now()
	for len(pending) > 0 {
		st, err := s.driver.Status(ctx, t.App.Namespace, t.App.Name)
		if err == nil && !st.Running && st.OperationRevision != t.Commit && time.Since(asked) > 5*s.opts.Poll {
			// The last operation ended at another commit (a sync to the
			// branch that resolved to an older one, or a stale status):
			// ask again.
			asked = time.Now()
			if err := s.requestSync(ctx, t); err != nil {
				s.logger.Warn("argo cd sync asked again, refused", "application", t.App.Name, "commit", t.Commit, "err", err)
			}
		}
		if err == nil {
			s.mu.Lock()
			s.healthy[t.Fabric] = st.Health
			s.mu.Unlock()
			final := st.Applied(t.Commit) || st.Finished(t.Commit)
			if final || (st.OperationRevision == t.Commit && len(st.Resources) > 0) {
				pending = s.settle(ctx, t, pending, st, final)
				continue
			}
		}
		if s.newer(t.Fabric) {
			return nil // the next commit's sync settles them
		}
		if time.Now().After(deadline) {
			var moves []state.Change
			for _, r := range pending {
				moves = append(moves, state.Change{Key: r.Key, To: state.Committed, Expect: state.Pending,
					Reason: fmt.Sprintf("Argo CD did not apply %s within %s", state.ShortCommit(t.Commit), s.opts.Timeout)})
			}
			s.apply(ctx, t, moves)
			return fmt.Errorf("argocd: %s/%s: sync to %s not done within %s", t.App.Namespace, t.App.Name, state.ShortCommit(t.Commit), s.opts.Timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.opts.Poll):
		}
	}
	return nil
}

// settle moves pending objects by the sync's outcome, each by its own
// resource's result where Argo CD gives one. Unless final, objects without
// a result stay pending and are returned.
func (s *Syncer) settle(ctx context.Context, t Target, pending []state.Record, st Status, final bool) []state.Record {
	results := map[string]Resource{}
	for _, r := range st.Resources {
		results[r.Kind+"/"+r.Namespace+"/"+r.Name] = r
	}
	var moves []state.Change
	var waiting []state.Record
	for _, r := range pending {
		res, has := results[r.Kind+"/"+r.Namespace+"/"+r.Name]
		c := state.Change{Key: r.Key, Expect: state.Pending, Commit: t.Commit}
		switch {
		case st.Applied(t.Commit), has && res.Status == "Synced":
			c.To = state.Synced
		case final, has && res.Status == "SyncFailed":
			c.To, c.Reason = state.Drifted, failure(res, has, st)
		default:
			waiting = append(waiting, r)
			continue
		}
		moves = append(moves, c)
	}
	s.apply(ctx, t, moves)
	if len(moves) > 0 {
		s.logger.Info("argo cd sync result", "fabric", t.FabricName, "application", t.App.Name, "commit", t.Commit,
			"phase", st.Operation, "sync", st.SyncStatus, "health", st.Health, "settled", len(moves), "waiting", len(waiting))
	}
	return waiting
}

func failure(res Resource, has bool, st Status) string {
	msg := st.Message
	if has && res.Message != "" {
		msg = res.Message
	}
	if msg == "" {
		msg = "sync " + strings.ToLower(st.Operation)
	}
	return "Argo CD: " + msg
}

func (s *Syncer) apply(ctx context.Context, t Target, moves []state.Change) {
	var moved []state.Key
	for i, err := range s.states.Apply(ctx, moves...) {
		switch {
		case err == nil:
			moved = append(moved, moves[i].Key)
		case !errors.Is(err, state.ErrConflict):
			s.logger.Error("object state not recorded", "fabric", t.FabricName, "object", moves[i].Key.String(), "err", err)
		}
	}
	if len(moved) > 0 {
		s.show(ctx, t.Fabric, moved)
	}
}
