package gitops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxReadFile caps one file read back from Git (rendered CRs are small).
const maxReadFile = 4 << 20

// Files fetches the branch and returns its tip and the files under dir
// (paths from the repository's root). An empty branch or a missing dir is
// no files; the tip is then "" or the tip that lacks dir.
func (w *Writer) Files(ctx context.Context, url, branch, dir string) (string, map[string][]byte, error) {
	var tip string
	var files map[string][]byte
	t, err := w.resolve(url, branch)
	if err != nil {
		return "", nil, err
	}
	err = w.guard(ctx, t.remote.String(), func(ctx context.Context) error {
		var err error
		tip, files, err = w.files(ctx, t, dir)
		return err
	})
	return tip, files, err
}

func (w *Writer) files(ctx context.Context, t target, dir string) (string, map[string][]byte, error) {
	c, release, err := w.open(t)
	if err != nil {
		return "", nil, err
	}
	defer release()
	tip, err := c.fetch(ctx)
	if err != nil || tip.IsZero() {
		return "", nil, err
	}
	commit, err := c.repo.CommitObject(tip)
	if err != nil {
		return "", nil, fmt.Errorf("gitops: read %s: %w", tip, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return "", nil, fmt.Errorf("gitops: read %s: %w", tip, err)
	}
	dir = strings.Trim(dir, "/")
	if dir != "" {
		tree, err = tree.Tree(dir)
		if errors.Is(err, object.ErrDirectoryNotFound) {
			return tip.String(), map[string][]byte{}, nil
		}
		if err != nil {
			return "", nil, fmt.Errorf("gitops: read %s:%s: %w", tip, dir, err)
		}
	}
	files := map[string][]byte{}
	err = tree.Files().ForEach(func(f *object.File) error {
		if f.Size > maxReadFile {
			return fmt.Errorf("%s: %d bytes, more than %d", f.Name, f.Size, maxReadFile)
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer func() { _ = r.Close() }()
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		files[path.Join(dir, f.Name)] = b
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("gitops: read %s:%s: %w", tip, dir, err)
	}
	return tip.String(), files, nil
}
