// Package jobs keeps the status of requested full re-syncs and Argo CD
// installations in Redis, so `GET /api/v1/jobs/{id}` answers from any
// replica, for a day.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
	"github.com/redis/go-redis/v9"
)

// ErrNotFound: no such job (or it expired).
var ErrNotFound = errors.New("jobs: not found")

// States of a job.
const (
	Queued    = "queued"
	Running   = "running"
	Retrying  = "retrying" // the last run failed; the queue retries it
	Succeeded = "succeeded"
	Failed    = "failed" // ended with Error; not retried (a fabric that cannot be synced as configured, an Argo CD installation)
)

// KindArgoCDInstall is the Kind of an Argo CD installation job; a full
// re-sync has none.
const KindArgoCDInstall = "argocd-install"

// Applied counts what an Argo CD installation applied.
type Applied struct {
	Created   int `json:"created"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
}

// Job is one requested full reconcile of a fabric, or one Argo CD
// installation into its cluster (Kind).
type Job struct {
	ID        string    `json:"id"`
	Fabric    int64     `json:"fabric"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Attempts  int       `json:"attempts"`
	// Phase, Done and Total say how far a running job is (Done of Total
	// steps: one per kind read from NetBox, rendering, the push).
	Phase string `json:"phase,omitempty"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
	// Objects read from NetBox, Invalid not written (with Problems).
	Objects   int      `json:"objects"`
	Invalid   int      `json:"invalid"`
	Problems  []string `json:"problems,omitempty"`
	Commit    string   `json:"commit,omitempty"`
	Committed bool     `json:"committed"`
	Error     string   `json:"error,omitempty"`
	// Kind is KindArgoCDInstall for an Argo CD installation, "" for a re-sync.
	Kind string `json:"kind,omitempty"`
	// Applied counts an installation's objects (set when it ends).
	Applied *Applied `json:"applied,omitempty"`
}

// Store keeps jobs in Redis.
type Store struct {
	rdb        redis.UniversalClient
	prefix     string
	ttl        time.Duration
	staleAfter time.Duration
	now        func() time.Time
}

// New builds a store whose keys start with the Redis prefix.
func New(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix, ttl: 24 * time.Hour, staleAfter: DefaultStaleAfter, now: time.Now}
}

// Create records a queued job for fabric. A re-sync request uses Resync,
// which keeps one queued job per fabric.
func (s *Store) Create(ctx context.Context, fabric int64) (Job, error) {
	return s.CreateKind(ctx, fabric, "")
}

// CreateKind records a queued job of a kind (KindArgoCDInstall) for fabric.
func (s *Store) CreateKind(ctx context.Context, fabric int64, kind string) (Job, error) {
	j := s.newJob(fabric, kind)
	return j, s.put(ctx, j)
}

func (s *Store) newJob(fabric int64, kind string) Job {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	now := s.now().UTC()
	return Job{ID: hex.EncodeToString(b), Fabric: fabric, State: Queued, CreatedAt: now, UpdatedAt: now, Kind: kind}
}

// Get reads a job. A job queued for longer than DefaultStaleAfter is
// answered failed: it was never picked up.
func (s *Store) Get(ctx context.Context, id string) (Job, error) {
	j, err := s.get(ctx, s.rdb, id)
	if err != nil {
		return Job{}, err
	}
	return s.showStale(j), nil
}

func (s *Store) get(ctx context.Context, rdb redis.Cmdable, id string) (Job, error) {
	raw, err := rdb.Get(ctx, keyspace.Key(s.prefix, "job", id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Job{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Job{}, fmt.Errorf("jobs: get %s: %w", id, err)
	}
	var j Job
	if err := json.Unmarshal(raw, &j); err != nil {
		return Job{}, fmt.Errorf("jobs: decode %s: %w", id, err)
	}
	return j, nil
}

// Update applies fn to a job and stores it. Jobs of one fabric are
// updated by the one worker that holds the fabric, so read-modify-write
// needs no transaction.
func (s *Store) Update(ctx context.Context, id string, fn func(*Job)) error {
	j, err := s.get(ctx, s.rdb, id)
	if err != nil {
		return err
	}
	fn(&j)
	j.UpdatedAt = s.now().UTC()
	return s.put(ctx, j)
}

func encode(j Job) ([]byte, error) {
	raw, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("jobs: encode: %w", err)
	}
	return raw, nil
}

func (s *Store) put(ctx context.Context, j Job) error {
	raw, err := encode(j)
	if err != nil {
		return err
	}
	if err := s.rdb.Set(ctx, keyspace.Key(s.prefix, "job", j.ID), raw, s.ttl).Err(); err != nil {
		return fmt.Errorf("jobs: store %s: %w", j.ID, err)
	}
	return nil
}
