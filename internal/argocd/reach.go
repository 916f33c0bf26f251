package argocd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// reach makes the Application sync to j's commit and records the
// outcome, under the lease's fence when the Owner gives one.
func (s *Syncer) reach(ctx context.Context, j job) error {
	ctx, err := s.fenced(ctx, j.t.Fabric)
	if err != nil {
		return err
	}
	if j.t, err = s.placed(ctx, j.t); err != nil {
		if errors.Is(err, ErrRefusedPlace) && j.t.Ensured != nil {
			j.t.Ensured(ctx, err) // shown on the fabric
		}
		return err
	}
	t := j.t
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
		// No object waits for this commit (it only removed files, or a
		// target read back from Redis was reached before a restart): it is
		// still asked for unless an operation for it already ended, so a
		// removal reaches a cluster without automated sync too.
		if st, err := t.drv.Status(ctx, t.App.Namespace, t.App.Name); err == nil && (st.Applied(t.Commit) || st.Finished(t.Commit)) {
			return nil
		}
	}
	if err := s.ensure(ctx, t); err != nil {
		return err
	}
	if err := t.drv.Refresh(ctx, t.App.Namespace, t.App.Name); err != nil {
		return err
	}
	if err := s.requestSync(ctx, j); err != nil {
		return err
	}
	var moves []state.Change
	for _, r := range start {
		moves = append(moves, state.Change{Key: r.Key, To: state.Pending, Expect: r.State, Commit: t.Commit,
			Reason: "Argo CD asked to sync " + state.ShortCommit(t.Commit)})
	}
	if err := s.apply(ctx, t, moves); err != nil {
		return err
	}
	pending = append(pending, start...)
	return s.watch(ctx, j, pending)
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
	if t.project != nil {
		if err := t.drv.EnsureProject(ctx, *t.project); err != nil {
			return err
		}
	}
	if t.Repo.URL != "" {
		if err := t.drv.EnsureRepository(ctx, t.App.Namespace, t.Repo); err != nil {
			return err
		}
	}
	return t.drv.EnsureApplication(ctx, t.App)
}

// requestSync asks for the sync, backing off while another operation
// runs; an operation already running for the commit (an automated sync)
// is as good as ours. Every request, retries too, is made only while the
// fabric is this replica's and j its newest target (mayAsk).
func (s *Syncer) requestSync(ctx context.Context, j job) error {
	t := j.t
	deadline := time.Now().Add(s.opts.Timeout)
	wait := s.opts.BusyBackoff
	for {
		if err := s.mayAsk(ctx, j); err != nil {
			return err
		}
		err := t.drv.Sync(ctx, t.App.Namespace, t.App.Name, t.Commit, t.App.Prune)
		if !errors.Is(err, ErrBusy) {
			return err
		}
		st, serr := t.drv.Status(ctx, t.App.Namespace, t.App.Name)
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
func (s *Syncer) watch(ctx context.Context, j job, pending []state.Record) error {
	t := j.t
	deadline := time.Now().Add(s.opts.Timeout)
	asked, owned := time.Now(), time.Now()
	seen := ""
	failed := false
	for len(pending) > 0 {
		st, err := t.drv.Status(ctx, t.App.Namespace, t.App.Name)
		if err == nil && !st.Running && st.OperationRevision != t.Commit && time.Since(asked) > 5*s.opts.Poll {
			// The last operation ended at another commit (a sync to the
			// branch that resolved to an older one, or a stale status):
			// ask again.
			asked = time.Now()
			if err := s.requestSync(ctx, j); stopped(err) {
				return err
			} else if err != nil {
				s.logger.Warn("argo cd sync asked again, refused", "application", t.App.Name, "commit", t.Commit, "err", err)
			}
		}
		if err == nil {
			if st.Health != seen {
				if herr := s.store.SetHealth(ctx, t.Fabric, st.Health); herr == nil {
					seen = st.Health
				}
			}
			final := st.Applied(t.Commit) || st.Finished(t.Commit)
			if final || (st.OperationRevision == t.Commit && len(st.Resources) > 0) {
				var drifted bool
				if pending, drifted, err = s.settle(ctx, t, pending, st, final); err != nil {
					return err
				}
				failed = failed || drifted
				continue
			}
		}
		if s.newer(ctx, j) {
			return nil // the next commit's sync settles them
		}
		if time.Since(owned) >= 10*s.opts.Poll {
			if !s.owns(ctx, t.Fabric) {
				return errNotOwner
			}
			owned = time.Now()
		}
		if time.Now().After(deadline) {
			var moves []state.Change
			for _, r := range pending {
				moves = append(moves, state.Change{Key: r.Key, To: state.Committed, Expect: state.Pending,
					Reason: fmt.Sprintf("Argo CD did not apply %s within %s", state.ShortCommit(t.Commit), s.opts.Timeout)})
			}
			if err := s.apply(ctx, t, moves); err != nil {
				return err
			}
			return fmt.Errorf("%w: %s/%s: sync to %s not done within %s", errSyncTimeout, t.App.Namespace, t.App.Name,
				state.ShortCommit(t.Commit), s.opts.Timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.opts.Poll):
		}
	}
	result := SyncOK
	if failed {
		result = SyncFailed
	}
	if !j.counted {
		s.syncs.WithLabelValues(result).Inc()
	}
	return nil
}

// settle moves pending objects by the sync's outcome, each by its own
// resource's result where Argo CD gives one. Unless final, objects without
// a result stay pending and are returned; drifted says whether Argo CD
// failed some. state.ErrFenced: the lease moved.
func (s *Syncer) settle(ctx context.Context, t Target, pending []state.Record, st Status, final bool) ([]state.Record, bool, error) {
	results := map[string]Resource{}
	for _, r := range st.Resources {
		results[r.Kind+"/"+r.Namespace+"/"+r.Name] = r
	}
	var moves []state.Change
	var waiting []state.Record
	drifted := false
	for _, r := range pending {
		res, has := results[r.Kind+"/"+r.Namespace+"/"+r.Name]
		c := state.Change{Key: r.Key, Expect: state.Pending, Commit: t.Commit}
		switch {
		case st.Applied(t.Commit), has && res.Status == "Synced":
			c.To = state.Synced
		case final && st.Operation == "Succeeded" && (!has || res.Status != "SyncFailed"):
			// The operation at the commit succeeded: what it did not list
			// was in sync already (an automated sync came first). Another
			// fabric's commit on the same branch may have moved
			// sync.revision on, so Applied cannot say it.
			c.To = state.Synced
		case final, has && res.Status == "SyncFailed":
			c.To, c.Reason = state.Drifted, failure(res, has, st)
			drifted = true
		default:
			waiting = append(waiting, r)
			continue
		}
		moves = append(moves, c)
	}
	if err := s.apply(ctx, t, moves); err != nil {
		return nil, false, err
	}
	if len(moves) > 0 {
		s.logger.Info("argo cd sync result", "fabric", t.FabricName, "application", t.App.Name, "argocd", cmp.Or(t.where, "default"), "commit", t.Commit,
			"phase", st.Operation, "sync", st.SyncStatus, "health", st.Health, "settled", len(moves), "waiting", len(waiting))
	}
	return waiting, drifted, nil
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

// apply records moves (each on its own: a conflict means another step
// moved the object first); state.ErrFenced when the lease moved.
func (s *Syncer) apply(ctx context.Context, t Target, moves []state.Change) error {
	var moved []state.Key
	var fenced error
	for i, err := range s.states.Apply(ctx, moves...) {
		switch {
		case err == nil:
			moved = append(moved, moves[i].Key)
		case errors.Is(err, state.ErrFenced):
			fenced = err
		case !errors.Is(err, state.ErrConflict):
			s.logger.Error("object state not recorded", "fabric", t.FabricName, "object", moves[i].Key.String(), "err", err)
		}
	}
	if len(moved) > 0 {
		s.show(ctx, t.Fabric, moved)
	}
	return fenced
}
