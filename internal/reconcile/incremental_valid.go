package reconcile

import (
	"errors"
	"maps"

	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/render"
)

// validState is a snapshot's objects' validity, as a full run's validSet
// makes it: every object (for references and dependents), the valid ones
// (what is rendered), and each invalid one's reasons. It is computed
// once per generation (known.Fabric.Derived) and handed on to the next
// one, changed only where an incremental run changed an object.
type validState struct {
	all, valid *render.Set
	reasons    map[render.ObjectRef]string
	// paths and names count the objects per file (root as given) and per
	// kind and name: a file or name two objects share is a full run's.
	paths, names map[string]int
}

func nameOf(o render.Object) string { return o.Kind.Name + "/" + o.Name }

// validityOf is the snapshot's validState, its files under root.
func validityOf(s *known.Fabric, root string) (*validState, error) {
	v := s.Derived(func(s *known.Fabric) any {
		objs := make([]render.Object, 0, len(s.Entries))
		for _, e := range s.Entries {
			if o, ok := objectOf(e); ok {
				objs = append(objs, o)
			}
		}
		invalid := map[render.ObjectRef][]error{}
		valid, err := validSet(objs, invalid)
		if err != nil {
			return err
		}
		paths, names := make(map[string]int, len(objs)), make(map[string]int, len(objs))
		for _, o := range objs {
			if p, err := render.Path(root, o); err == nil {
				paths[p]++
			}
			names[nameOf(o)]++
		}
		return &validState{all: render.NewSet(objs...), valid: valid, reasons: reasons(invalid), paths: paths, names: names}
	})
	if err, ok := v.(error); ok {
		return nil, err
	}
	return v.(*validState), nil
}

// change is v with old (may be nil) replaced by obj (nil: deleted), and
// obj's reasons when it is invalid. Only obj's own validity is computed:
// the objects it refers to keep theirs (references do not go round), and
// when an object that refers to it would change validity or reasons, the
// run is a full one (FullDependents). others maps an object in the set
// to its object as NetBox served it (Validate checks that, not the
// normalised form).
func (v *validState) change(old, obj *render.Object, oldPath, objPath string, others func(render.ObjectRef) (render.Object, bool)) (*validState, []error, error) {
	n := &validState{all: v.all.Clone(), valid: v.valid.Clone(), reasons: maps.Clone(v.reasons),
		paths: maps.Clone(v.paths), names: maps.Clone(v.names)}
	count := func(o *render.Object, p string, d int) {
		if p != "" {
			n.paths[p] += d
		}
		n.names[nameOf(*o)] += d
	}
	if old != nil {
		count(old, oldPath, -1)
	}
	if obj != nil {
		count(obj, objPath, +1)
	}
	var target render.Object
	switch {
	case obj != nil:
		target = *obj
	case old != nil:
		target = *old
	default:
		return nil, nil, errors.New("reconcile: no object changed")
	}
	if old != nil {
		n.all.Remove(old.Kind, old.Name)
		n.valid.Remove(old.Kind, old.Name)
		delete(n.reasons, old.Ref())
	}
	var errs []error
	if obj != nil {
		n.all.Add(*obj)
		// As validSet: first against every object, then against the
		// valid ones (its references' validity is final).
		if errs = render.Validate(*obj, n.all); len(errs) == 0 {
			errs = render.Validate(*obj, n.valid)
		}
		if len(errs) == 0 {
			n.valid.Add(*obj)
		} else {
			n.reasons[obj.Ref()] = joinReasons(errs)
		}
	}
	for _, ref := range n.all.Dependents(target.Kind, target.Name) {
		d, ok := others(ref)
		if !ok {
			return nil, nil, needFull(FullDependents)
		}
		derrs := render.Validate(d, n.all)
		if len(derrs) == 0 {
			derrs = render.Validate(d, n.valid)
		}
		_, wasValid := v.valid.Get(d.Kind, d.Name)
		if wasValid != (len(derrs) == 0) || (len(derrs) > 0 && v.reasons[d.Ref()] != joinReasons(derrs)) {
			return nil, nil, needFull(FullDependents)
		}
	}
	return n, errs, nil
}
