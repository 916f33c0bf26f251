package gitops

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// NoCommit is Batch.Since for a branch that had no commit when the batch
// was planned.
const NoCommit = "0000000000000000000000000000000000000000"

// ErrMoved: another writer changed the batch's Owned paths after Since.
// Nothing was pushed; the caller re-reads its source and plans again.
var ErrMoved error = answer("gitops: branch moved: another writer changed the batch's paths")

// ErrFenced is wrapped by the error of a Batch.Fence that refused a push.
var ErrFenced = errors.New("gitops: fence refused the push")

// fenceError is a Fence's refusal. The remote was never asked, so a
// circuit breaker must not count it.
type fenceError struct{ err error }

func (e *fenceError) Error() string        { return fmt.Sprintf("%v: %v", ErrFenced, e.err) }
func (e *fenceError) Unwrap() []error      { return []error{ErrFenced, e.err} }
func (e *fenceError) BreakerNeutral() bool { return true }

// movedSince returns ErrMoved when any of owned differs between the
// commits since and tip (a missing path is the zero hash, so a directory
// created or removed counts). A since the clone does not hold is moved
// too: it cannot be compared, and re-reading is always safe.
func movedSince(c *clone, since string, tip plumbing.Hash, owned []string) error {
	if !plumbing.IsHash(since) {
		return fmt.Errorf("%w: Since %q is not a commit hash", ErrBadChange, since)
	}
	base := plumbing.NewHash(since)
	if base == tip {
		return nil
	}
	baseTree, err := rootTree(c, base)
	if err != nil {
		return fmt.Errorf("%w (since %s: %v)", ErrMoved, since, err)
	}
	tipTree, err := rootTree(c, tip)
	if err != nil {
		return fmt.Errorf("gitops: read tip %s: %w", tip, err)
	}
	for _, p := range owned {
		p = strings.Trim(path.Clean("/"+p), "/")
		a, err := entryHash(baseTree, p)
		if err != nil {
			return err
		}
		b, err := entryHash(tipTree, p)
		if err != nil {
			return err
		}
		if a != b {
			return fmt.Errorf("%w: %s changed between %s and %s", ErrMoved, p, since[:12], tip.String()[:12])
		}
	}
	return nil
}

// rootTree is the tree of commit h; nil for the zero hash (no commit).
func rootTree(c *clone, h plumbing.Hash) (*object.Tree, error) {
	if h.IsZero() {
		return nil, nil
	}
	commit, err := c.repo.CommitObject(h)
	if err != nil {
		return nil, err
	}
	return commit.Tree()
}

// entryHash is the hash of the entry at p in t (t itself for ""), zero
// when there is none.
func entryHash(t *object.Tree, p string) (plumbing.Hash, error) {
	if t == nil {
		return plumbing.ZeroHash, nil
	}
	if p == "" {
		return t.Hash, nil
	}
	e, err := t.FindEntry(p)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gitops: read %s: %w", p, err)
	}
	return e.Hash, nil
}
