package gitops

import (
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"
)

// overlay collects the objects a batch creates in memory, on top of the
// clone's store, and writes them into the clone as one packfile: ten
// thousand loose-object files cost seconds of file creation.
type overlay struct {
	storer.EncodedObjectStorer // the clone's store, for reads
	mem                        *memory.ObjectStorage
	added                      []plumbing.Hash
}

func newOverlay(base storer.EncodedObjectStorer) *overlay {
	return &overlay{EncodedObjectStorer: base, mem: &memory.NewStorage().ObjectStorage}
}

func (o *overlay) NewEncodedObject() plumbing.EncodedObject { return o.mem.NewEncodedObject() }

func (o *overlay) SetEncodedObject(obj plumbing.EncodedObject) (plumbing.Hash, error) {
	h, err := o.mem.SetEncodedObject(obj)
	if err == nil {
		o.added = append(o.added, h)
	}
	return h, err
}

func (o *overlay) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if obj, err := o.mem.EncodedObject(t, h); err == nil {
		return obj, nil
	}
	return o.EncodedObjectStorer.EncodedObject(t, h)
}

// flush writes the new objects into the clone as one packfile (no deltas:
// the push computes its own).
func (o *overlay) flush() error {
	if len(o.added) == 0 {
		return nil
	}
	pw, ok := o.EncodedObjectStorer.(storer.PackfileWriter)
	if !ok {
		for _, h := range o.added {
			obj, err := o.mem.EncodedObject(plumbing.AnyObject, h)
			if err == nil {
				_, err = o.EncodedObjectStorer.SetEncodedObject(obj)
			}
			if err != nil {
				return fmt.Errorf("gitops: store object: %w", err)
			}
		}
		return nil
	}
	w, err := pw.PackfileWriter()
	if err != nil {
		return fmt.Errorf("gitops: write pack: %w", err)
	}
	if _, err := packfile.NewEncoder(w, o.mem, false).Encode(o.added, 0); err != nil {
		return errors.Join(fmt.Errorf("gitops: write pack: %w", err), w.Close())
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("gitops: write pack: %w", err)
	}
	return nil
}
