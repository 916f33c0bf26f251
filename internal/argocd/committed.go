package argocd

import (
	"context"
	"time"
)

// storeTimeout bounds the store's calls made without a caller's context.
const storeTimeout = 5 * time.Second

// Committed asks for fabric t.Fabric to reach t.Commit: it records the
// target in the store (bounded by storeTimeout) and wakes the workers.
func (s *Syncer) Committed(t Target) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	s.putMu.Lock()
	j := job{t: t, at: time.Now().UTC()}
	seq, err := s.store.Put(ctx, j.saved(), false)
	if err != nil {
		s.logger.Warn("argo cd target not recorded in redis: recorded again before it is synced", "fabric", t.FabricName,
			"commit", t.Commit, "err", err)
	}
	j.seq = seq
	s.mu.Lock()
	s.want[t.Fabric] = j
	s.mu.Unlock()
	s.putMu.Unlock()
	s.poke()
}

func (j job) saved() saved {
	return saved{Fabric: j.t.Fabric, FabricName: j.t.FabricName, App: j.t.App, RepoURL: j.t.Repo.URL,
		Commit: j.t.Commit, At: j.at}
}

// Forget removes a fabric deleted in NetBox: its target, health,
// failures and seq in the store; a worker still on it stops before its
// next request to Argo CD (its target is no longer the newest).
func (s *Syncer) Forget(ctx context.Context, fabric int64) error {
	s.mu.Lock()
	delete(s.want, fabric)
	s.mu.Unlock()
	return s.store.Forget(ctx, fabric)
}

func (s *Syncer) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
