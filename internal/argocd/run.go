package argocd

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Run works until ctx ends; workers stop with it. It takes up the
// targets in the store at once and every Rescan.
func (s *Syncer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(s.opts.Rescan)
	defer tick.Stop()
	s.restore(ctx)
	for {
		s.start(ctx, &wg)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
			s.restore(ctx)
		}
	}
}

// restore offers the stored targets no worker here has: those another
// replica (or this one before a restart) recorded and did not reach.
func (s *Syncer) restore(ctx context.Context) {
	pending, err := s.store.Pending(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Warn("argo cd targets not read from redis; tried again", "err", err)
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sv := range pending {
		if _, has := s.want[id]; has || s.active[id] || s.delayed[id] {
			continue
		}
		s.want[id] = job{t: s.rehydrate(sv), seq: sv.Seq}
	}
}

// rehydrate is the Target of a stored one, with the repository's
// credentials from the configuration.
func (s *Syncer) rehydrate(sv saved) Target {
	t := Target{Fabric: sv.Fabric, FabricName: sv.FabricName, App: sv.App, Commit: sv.Commit}
	if sv.RepoURL != "" && s.opts.RepoCredentials != nil {
		t.Repo = s.opts.RepoCredentials(sv.RepoURL)
		t.Repo.URL = sv.RepoURL
	}
	return t
}

// start runs a worker for each wanted fabric this replica owns; the
// others' targets are left to their owners (they stay in the store). A
// target whose Put failed is recorded first (and kept until it is).
func (s *Syncer) start(ctx context.Context, wg *sync.WaitGroup) {
	s.mu.Lock()
	var ids []int64
	for id := range s.want {
		if !s.active[id] {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		if !s.stored(ctx, id) {
			continue
		}
		own := s.owns(ctx, id)
		s.mu.Lock()
		if j, has := s.want[id]; has && !s.active[id] && j.seq != 0 {
			if !own {
				delete(s.want, id)
			} else {
				s.active[id] = true
				wg.Go(func() { s.work(ctx, id) })
			}
		}
		s.mu.Unlock()
	}
}

// stored puts the fabric's wanted target again if its first Put failed,
// unless a target asked later was put meanwhile (by any replica): then
// the older one is dropped. False while the target is not in the store
// (it stays wanted and is tried again at the next wake or rescan).
func (s *Syncer) stored(ctx context.Context, fabric int64) bool {
	s.putMu.Lock()
	defer s.putMu.Unlock()
	s.mu.Lock()
	j, has := s.want[fabric]
	s.mu.Unlock()
	if !has || j.seq != 0 {
		return has
	}
	seq, err := s.store.Put(ctx, j.saved(), true)
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, still := s.want[fabric]
	if !still || cur.seq != 0 || cur.t.Commit != j.t.Commit {
		return still
	}
	switch {
	case errors.Is(err, errSuperseded):
		delete(s.want, fabric)
		s.logger.Info("argo cd target dropped: a newer one was recorded meanwhile", "fabric", j.t.FabricName, "commit", j.t.Commit)
		return false
	case err != nil:
		if ctx.Err() == nil {
			s.logger.Warn("argo cd target still not recorded in redis; tried again", "fabric", j.t.FabricName, "commit", j.t.Commit, "err", err)
		}
		return false
	}
	cur.seq = seq
	s.want[fabric] = cur
	return true
}

// owns asks the Owner (none: every fabric is this replica's).
func (s *Syncer) owns(ctx context.Context, fabric int64) bool {
	if s.opts.Owner == nil {
		return true
	}
	ok, err := s.opts.Owner.Own(ctx, fabric)
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Warn("argo cd: fabric's owner not known; left for now", "fabric_id", fabric, "err", err)
		}
		return false
	}
	return ok
}
