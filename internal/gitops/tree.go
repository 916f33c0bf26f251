package gitops

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Change sets the file at Path to Content, or deletes it when Content is
// nil. Paths are slash-separated and relative to the repository root.
type Change struct {
	Path    string
	Content []byte
}

// dirChanges is the changes below one directory, split by first element.
type dirChanges struct {
	files map[string][]byte // name → content (nil: delete)
	dirs  map[string]*dirChanges
}

func newDirChanges() *dirChanges {
	return &dirChanges{files: map[string][]byte{}, dirs: map[string]*dirChanges{}}
}

func group(changes []Change) (*dirChanges, error) {
	root := newDirChanges()
	for _, c := range changes {
		p := path.Clean(c.Path)
		if p == "." || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "../") || p == ".." || strings.Contains(p, "/../") {
			return nil, fmt.Errorf("%w: path %q", ErrBadChange, c.Path)
		}
		d := root
		parts := strings.Split(p, "/")
		for _, part := range parts[:len(parts)-1] {
			if part == ".git" {
				return nil, fmt.Errorf("%w: path %q", ErrBadChange, c.Path)
			}
			if d.dirs[part] == nil {
				d.dirs[part] = newDirChanges()
			}
			d = d.dirs[part]
		}
		d.files[parts[len(parts)-1]] = c.Content
	}
	return root, nil
}

// applyTree writes, into s, the tree that is base (zero hash: empty) with
// the changes applied, touching only the directories that change, and
// returns its hash. Directories left empty disappear, as in Git.
func applyTree(s storer.EncodedObjectStorer, base plumbing.Hash, d *dirChanges) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	changed := false
	if !base.IsZero() {
		t, err := object.GetTree(s, base)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("gitops: read tree %s: %w", base, err)
		}
		for _, e := range t.Entries {
			entries[e.Name] = e
		}
	}
	for name, content := range d.files {
		old, exists := entries[name]
		if content == nil {
			changed = changed || exists
			delete(entries, name)
			continue
		}
		if exists && old.Mode == filemode.Regular && old.Hash == plumbing.ComputeHash(plumbing.BlobObject, content) {
			continue // same content: no new object
		}
		h, err := writeBlob(s, content)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries[name], changed = object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h}, true
	}
	for name, sub := range d.dirs {
		var subBase plumbing.Hash
		if e, ok := entries[name]; ok && e.Mode == filemode.Dir {
			subBase = e.Hash
		}
		h, err := applyTree(s, subBase, sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if h == subBase {
			continue
		}
		changed = true
		if h.IsZero() {
			delete(entries, name)
			continue
		}
		entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
	}
	if !changed {
		return base, nil
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	t := &object.Tree{}
	for _, e := range entries {
		t.Entries = append(t.Entries, e)
	}
	sort.Slice(t.Entries, func(i, j int) bool { return gitName(t.Entries[i]) < gitName(t.Entries[j]) })
	return writeObject(s, t)
}

// gitName is the key Git sorts tree entries by: directories as "name/".
func gitName(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func writeObject(s storer.EncodedObjectStorer, o encoder) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gitops: encode object: %w", err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gitops: store object: %w", err)
	}
	return h, nil
}

func writeBlob(s storer.EncodedObjectStorer, content []byte) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(content)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gitops: write blob: %w", err)
	}
	if _, err := w.Write(content); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gitops: write blob: %w", err)
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gitops: write blob: %w", err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gitops: store blob: %w", err)
	}
	return h, nil
}
