package api

import (
	"sync"
	"time"
)

// answers remembers NetBox's answers about credentials, refusals as well
// as grants, for ttl. Keys are hashes (of the credentials, and of what was
// asked): raw credentials are never stored. At most max entries are kept;
// when full, expired ones go first, then any, down to 90%.
type answers[V any] struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	now func() time.Time
	m   map[[32]byte]answer[V]
}

type answer[V any] struct {
	v   V
	exp time.Time
}

func newAnswers[V any](ttl time.Duration, max int) *answers[V] {
	return &answers[V]{ttl: ttl, max: max, now: time.Now, m: map[[32]byte]answer[V]{}}
}

func (a *answers[V]) get(k [32]byte) (V, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.m[k]
	if !ok || a.now().After(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (a *answers[V]) put(k [32]byte, v V) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.m) >= a.max {
		// Expired ones first, then any, down to 90%: one pass per a.max/10 puts.
		for _, expiredOnly := range []bool{true, false} {
			for key, e := range a.m {
				if len(a.m) < a.max*9/10 {
					break
				}
				if !expiredOnly || now.After(e.exp) {
					delete(a.m, key)
				}
			}
		}
	}
	a.m[k] = answer[V]{v: v, exp: now.Add(a.ttl)}
}
