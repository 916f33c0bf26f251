package render

import (
	"cmp"
	"maps"
	"slices"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// Set is the desired state of one fabric: every object NetBox holds for it,
// normalised and indexed by kind and name, with a reverse index of
// references. Validate checks references against it; Dependents tells a
// reconciler which objects waited on one that just appeared or changed.
//
// A Set is not safe for concurrent use while it is being changed.
type Set struct {
	objs map[key]Object
	deps map[key]map[key]struct{} // referenced object → objects naming it
}

type key struct{ kind, name string }

// NewSet returns a Set of objs; of two objects with the same kind and name,
// the later wins.
func NewSet(objs ...Object) *Set {
	s := &Set{objs: map[key]Object{}, deps: map[key]map[key]struct{}{}}
	for _, o := range objs {
		s.Add(o)
	}
	return s
}

// Add adds o, replacing an object of the same kind and name. Objects that
// are not of a CR kind are ignored; an object whose spec cannot be
// normalised is kept without its spec, so that it still satisfies
// references to it (its own Validate reports the problem).
func (s *Set) Add(o Object) {
	n, err := Normalize(o)
	if err != nil {
		k, ok := crKind(o.Kind)
		if !ok {
			return
		}
		n = o
		n.Kind = k
		n.Spec = map[string]any{}
	}
	s.Remove(n.Kind, n.Name)
	k := key{n.Kind.Name, n.Name}
	s.objs[k] = n
	for _, r := range references(n) {
		t := key{r.to.Kind.Name, r.to.Name}
		if s.deps[t] == nil {
			s.deps[t] = map[key]struct{}{}
		}
		s.deps[t][k] = struct{}{}
	}
}

// Clone returns a copy of s that changes independently of it (the
// objects themselves are shared: neither changes them).
func (s *Set) Clone() *Set {
	c := &Set{objs: maps.Clone(s.objs), deps: make(map[key]map[key]struct{}, len(s.deps))}
	for k, from := range s.deps {
		c.deps[k] = maps.Clone(from)
	}
	return c
}

// Remove removes the object of kind k called name, if there is one.
func (s *Set) Remove(k kind.Kind, name string) {
	from := key{k.Name, name}
	old, ok := s.objs[from]
	if !ok {
		return
	}
	delete(s.objs, from)
	for _, r := range references(old) {
		t := key{r.to.Kind.Name, r.to.Name}
		delete(s.deps[t], from)
		if len(s.deps[t]) == 0 {
			delete(s.deps, t)
		}
	}
}

// Get returns the normalised object of kind k called name.
func (s *Set) Get(k kind.Kind, name string) (Object, bool) {
	o, ok := s.objs[key{k.Name, name}]
	return o, ok
}

// Len is the number of objects in the set.
func (s *Set) Len() int { return len(s.objs) }

// Objects returns the normalised objects in sync-wave order, then by kind
// and name.
func (s *Set) Objects() []Object {
	out := make([]Object, 0, len(s.objs))
	for _, o := range s.objs {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Object) int { return compareRefs(a.Ref(), b.Ref()) })
	return out
}

// Dependents returns the objects of the set whose specs refer to the
// object of kind k called name, whether or not that object is in the set,
// in sync-wave order, then by kind and name. When an object appears or
// changes (a VPC gains a subnet), these are the ones to reconcile again.
func (s *Set) Dependents(k kind.Kind, name string) []ObjectRef {
	from := s.deps[key{k.Name, name}]
	out := make([]ObjectRef, 0, len(from))
	for d := range from {
		out = append(out, s.objs[d].Ref())
	}
	slices.SortFunc(out, compareRefs)
	return out
}

func compareRefs(a, b ObjectRef) int {
	return cmp.Or(cmp.Compare(a.Kind.SyncWave, b.Kind.SyncWave),
		cmp.Compare(a.Kind.Name, b.Kind.Name), cmp.Compare(a.Name, b.Name))
}
