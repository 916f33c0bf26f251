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
// nil. Keep leaves the file as it is, even inside a replaced directory (an
// object that is invalid now keeps its last valid version). Paths are
// slash-separated and relative to the repository root.
type Change struct {
	Path    string
	Content []byte
	Keep    bool
}

// dirChanges is the changes below one directory, split by first element.
type dirChanges struct {
	files map[string]Change // by file name
	dirs  map[string]*dirChanges
	// replace: entries not named in files or dirs are removed (the
	// directory is owned whole, as managed/ is by a full reconcile).
	replace bool
}

func newDirChanges() *dirChanges {
	return &dirChanges{files: map[string]Change{}, dirs: map[string]*dirChanges{}}
}

func group(changes []Change, replace []string) (*dirChanges, error) {
	root := newDirChanges()
	for _, dir := range replace {
		d, _, err := root.walk(dir, true)
		if err != nil {
			return nil, err
		}
		d.replace = true
	}
	for _, c := range changes {
		d, name, err := root.walk(c.Path, false)
		if err != nil {
			return nil, err
		}
		d.files[name] = c
	}
	return root, nil
}

// walk returns the node of p's directory (of p itself when isDir) and p's
// last element, creating nodes on the way. It refuses paths that leave
// the repository or touch .git.
func (d *dirChanges) walk(p string, isDir bool) (*dirChanges, string, error) {
	clean := path.Clean(p)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "../") {
		return nil, "", fmt.Errorf("%w: path %q", ErrBadChange, p)
	}
	parts := strings.Split(clean, "/")
	dirs, last := parts[:len(parts)-1], parts[len(parts)-1]
	if isDir {
		dirs, last = parts, ""
	}
	for _, part := range parts {
		if part == ".git" {
			return nil, "", fmt.Errorf("%w: path %q", ErrBadChange, p)
		}
	}
	for _, part := range dirs {
		if d.dirs[part] == nil {
			d.dirs[part] = newDirChanges()
		}
		d = d.dirs[part]
	}
	return d, last, nil
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
	for name, c := range d.files {
		old, exists := entries[name]
		content := c.Content
		if c.Keep {
			continue
		}
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
		sub.replace = sub.replace || d.replace
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
	if d.replace {
		for name := range entries {
			if _, ok := d.files[name]; !ok && d.dirs[name] == nil {
				delete(entries, name)
				changed = true
			}
		}
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
