package argocd

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"
)

// memTargets is the targetStore of a syncer without Redis (a single
// replica whose targets end with it).
type memTargets struct {
	mu       sync.Mutex
	targets  map[int64]saved
	seqs     map[int64]int64
	putAt    map[int64]time.Time
	health   map[int64]string
	failures map[int64]fabricFailure
	lastGood time.Time
}

func newMemTargets() *memTargets {
	return &memTargets{targets: map[int64]saved{}, seqs: map[int64]int64{}, putAt: map[int64]time.Time{}, health: map[int64]string{}, failures: map[int64]fabricFailure{}}
}

func (m *memTargets) Put(_ context.Context, t saved, ifNewer bool) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if last, has := m.putAt[t.Fabric]; ifNewer && has && !t.At.After(last) {
		return 0, fmt.Errorf("%w: fabric %d, commit %s", errSuperseded, t.Fabric, t.Commit)
	}
	m.putAt[t.Fabric] = t.At
	m.seqs[t.Fabric]++
	t.Seq = m.seqs[t.Fabric]
	m.targets[t.Fabric] = t
	return t.Seq, nil
}

func (m *memTargets) Pending(context.Context) (map[int64]saved, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.targets), nil
}

func (m *memTargets) Done(_ context.Context, fabric, seq int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if seq != 0 && m.seqs[fabric] == seq {
		delete(m.targets, fabric)
	}
	return nil
}

func (m *memTargets) Seq(_ context.Context, fabric int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seqs[fabric], nil
}

func (m *memTargets) Forget(_ context.Context, fabric int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seqs, fabric)
	delete(m.targets, fabric)
	delete(m.putAt, fabric)
	delete(m.health, fabric)
	delete(m.failures, fabric)
	return nil
}

func (m *memTargets) SetHealth(_ context.Context, fabric int64, h string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.health[fabric] = h
	return nil
}

func (m *memTargets) Health(_ context.Context, fabric int64) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.health[fabric], nil
}

func (m *memTargets) Failed(_ context.Context, fabric int64, f fabricFailure) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f.Count = m.failures[fabric].Count + 1
	m.failures[fabric] = f
	return f.Count, nil
}

func (m *memTargets) Succeeded(_ context.Context, fabric int64, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.failures, fabric)
	m.lastGood = at
	return nil
}

func (m *memTargets) Failing(context.Context) (map[int64]fabricFailure, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.failures), m.lastGood, nil
}
