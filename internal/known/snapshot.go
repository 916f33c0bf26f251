// Package known keeps each fabric's last-known NetBox objects in Redis:
// what the fabric's writer read, with each object's last_updated, and the
// Git commit whose files match them. An incremental reconcile starts from
// it and re-reads only the object a hint names; a full reconcile replaces
// it whole. Only the fabric's lease holder writes it (every write is
// fenced by the lease, when one is given), and each write bumps a
// generation, so a replica's in-memory copy is used only while it is the
// newest.
package known

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/githedgehog/hnp-sidecar/internal/keyspace"
)

// Errors of the snapshot store.
var (
	// ErrFenced: the fabric's lease moved to another replica; nothing was
	// written.
	ErrFenced = errors.New("known: the fabric's lease moved; not written")
	// ErrStale: another run wrote the snapshot since it was loaded; nothing
	// was written, the next run starts from the newer one.
	ErrStale = errors.New("known: written meanwhile by another run")
)

// Entry is one NetBox object as last read.
type Entry struct {
	Kind        string         `json:"k"`
	ID          int64          `json:"i"`
	Name        string         `json:"n"`
	Namespace   string         `json:"ns,omitempty"`
	Spec        map[string]any `json:"s,omitempty"`
	Labels      map[string]any `json:"l,omitempty"`
	Annotations map[string]any `json:"a,omitempty"`
	LastUpdated string         `json:"u,omitempty"`
}

// Field is the entry's name in its fabric's snapshot: "<Kind>:<id>".
func (e Entry) Field() string { return Field(e.Kind, e.ID) }

// Field names an object in a snapshot.
func Field(kind string, id int64) string { return kind + ":" + strconv.FormatInt(id, 10) }

// Fabric is one fabric's snapshot. It is shared by every run that loads
// the same generation: never modify it.
type Fabric struct {
	// Fingerprint is the fabric's configuration the objects were read
	// and rendered with (the caller's choice of fields).
	Fingerprint string
	// Tip is the Git commit whose files match the objects.
	Tip string
	// Gen increases with every write.
	Gen     int64
	Entries map[string]Entry
	// derived is the caller's value computed from this generation (see
	// Derived).
	mu      sync.Mutex
	derived any
}

// Derived returns what compute makes of this snapshot, computed once per
// generation (the objects' validity, say).
func (f *Fabric) Derived(compute func(*Fabric) any) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.derived == nil {
		f.derived = compute(f)
	}
	return f.derived
}

// Fence is a fabric lease as a write checks it: Key must still hold Value.
type Fence struct{ Key, Value string }

// Store reads and writes snapshots, with an in-memory copy per fabric.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	mu     sync.Mutex
	cache  map[int64]*Fabric
}

// New builds a store on rdb under prefix's keys.
func New(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix, cache: map[int64]*Fabric{}}
}

func (s *Store) objects(fabric int64) string {
	return keyspace.Key(s.prefix, "snap", strconv.FormatInt(fabric, 10))
}

func (s *Store) meta(fabric int64) string {
	return keyspace.Key(s.prefix, "snap-meta", strconv.FormatInt(fabric, 10))
}

// Load returns the fabric's snapshot; false when there is none (never
// written, or dropped). The in-memory copy is used when its generation is
// Redis's; otherwise the objects are read again.
func (s *Store) Load(ctx context.Context, fabric int64) (*Fabric, bool, error) {
	m, err := s.rdb.HMGet(ctx, s.meta(fabric), "gen", "fp", "tip").Result()
	if err != nil {
		return nil, false, fmt.Errorf("known: load fabric %d: %w", fabric, err)
	}
	genS, _ := m[0].(string)
	gen, err := strconv.ParseInt(genS, 10, 64)
	if _, has := m[2].(string); err != nil || !has {
		s.forget(fabric) // never written, or dropped
		return nil, false, nil
	}
	s.mu.Lock()
	c := s.cache[fabric]
	s.mu.Unlock()
	if c != nil && c.Gen == gen {
		return c, true, nil
	}
	raw, err := s.rdb.HGetAll(ctx, s.objects(fabric)).Result()
	if err != nil {
		return nil, false, fmt.Errorf("known: load fabric %d: %w", fabric, err)
	}
	f := &Fabric{Gen: gen, Entries: make(map[string]Entry, len(raw))}
	f.Fingerprint, _ = m[1].(string)
	f.Tip, _ = m[2].(string)
	for field, v := range raw {
		var e Entry
		if err := json.Unmarshal([]byte(v), &e); err != nil {
			return nil, false, fmt.Errorf("known: decode fabric %d %s: %w", fabric, field, err)
		}
		f.Entries[field] = e
	}
	s.keep(fabric, f)
	return f, true, nil
}

func (s *Store) keep(fabric int64, f *Fabric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cache[fabric]; c == nil || c.Gen <= f.Gen {
		s.cache[fabric] = f
	}
}

func (s *Store) forget(fabric int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cache, fabric)
}

// with is f with one entry put (or, when del, removed) at generation gen.
func (f *Fabric) with(put *Entry, del string, tip string, gen int64) *Fabric {
	n := &Fabric{Fingerprint: f.Fingerprint, Tip: tip, Gen: gen, Entries: maps.Clone(f.Entries)}
	if del != "" {
		delete(n.Entries, del)
	}
	if put != nil {
		n.Entries[put.Field()] = *put
	}
	return n
}
