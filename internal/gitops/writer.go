package gitops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Writer commits batches of changes to Git remotes.
type Writer struct {
	opts   Options
	logger *slog.Logger
	now    func() time.Time
	mu     sync.Mutex
	locks  map[string]*sync.Mutex // one per clone directory
	// beforePush, when set by a test, runs between building and pushing.
	beforePush func(attempt int)
}

// New builds a Writer; clones are made on first use.
func New(opts Options, logger *slog.Logger) (*Writer, error) {
	if opts.WorkDir == "" {
		return nil, errors.New("gitops: work dir is required")
	}
	if opts.Committer.Name == "" {
		opts.Committer = Signature{Name: "hnp-sidecar", Email: "hnp-sidecar@localhost"}
	}
	if opts.PushAttempts <= 0 {
		opts.PushAttempts = 5
	}
	if err := os.MkdirAll(opts.WorkDir, 0o700); err != nil {
		return nil, fmt.Errorf("gitops: work dir: %w", err)
	}
	return &Writer{opts: opts, logger: logger, now: time.Now, locks: map[string]*sync.Mutex{}}, nil
}

// Batch is one commit's worth of changes to one branch.
type Batch struct {
	URL, Branch string
	Changes     []Change
	// Replace lists directories the batch owns whole: files in them that
	// Changes does not name are deleted (a full reconcile of managed/).
	Replace []string
	Message string
	// Author is the NetBox user where known; the committer is the sidecar.
	Author Signature
}

// Result says what Apply did.
type Result struct {
	// Commit is the branch tip after Apply: the new commit, or the tip
	// that already had the content.
	Commit string
	// Committed is false when the content was already on the branch.
	Committed bool
	Attempts  int
}

// Apply commits the batch on the tip of the remote branch and pushes it.
// When the content is already there nothing is committed. When another
// writer pushed first, Apply fetches and rebuilds the batch on the new tip,
// up to PushAttempts times. Authentication failures and hook declines are
// returned at once.
func (w *Writer) Apply(ctx context.Context, b Batch) (Result, error) {
	var res Result
	err := w.guard(ctx, b.URL, func(ctx context.Context) error {
		var err error
		res, err = w.apply(ctx, b)
		return err
	})
	return res, err
}

// guard runs fn through the remote's breaker, if there is a Guard.
func (w *Writer) guard(ctx context.Context, url string, fn func(context.Context) error) error {
	if w.opts.Guard == nil {
		return fn(ctx)
	}
	return w.opts.Guard.Do(ctx, url, fn)
}

func (w *Writer) apply(ctx context.Context, b Batch) (Result, error) {
	changes, err := group(b.Changes, b.Replace)
	if err != nil {
		return Result{}, err
	}
	auth, err := w.opts.Credentials.auth(b.URL)
	if err != nil {
		return Result{}, err
	}
	dir := w.cloneDir(b.URL, b.Branch)
	unlock := w.lock(dir)
	defer unlock()
	c, err := openClone(dir, b.URL)
	if err != nil {
		return Result{}, err
	}
	c.auth, c.branch = auth, b.Branch
	for attempt := 1; attempt <= w.opts.PushAttempts; attempt++ {
		tip, err := c.fetch(ctx)
		if err != nil {
			return Result{Attempts: attempt}, err
		}
		commit, pack, changed, err := w.commit(c, tip, changes, b)
		if err != nil {
			return Result{Attempts: attempt}, err
		}
		if !changed {
			return Result{Commit: hashString(tip), Attempts: attempt}, nil
		}
		if w.beforePush != nil {
			w.beforePush(attempt)
		}
		err = c.push(ctx, tip, commit, pack)
		if err == nil {
			return Result{Commit: commit.String(), Committed: true, Attempts: attempt}, nil
		}
		if !errors.Is(err, errStale) {
			return Result{Attempts: attempt}, err
		}
		w.logger.Info("branch moved during push; rebuilding the batch on the new tip",
			"branch", b.Branch, "attempt", attempt)
	}
	return Result{Attempts: w.opts.PushAttempts}, ErrConflict
}

// commit writes the new tree on tip and a commit for it; changed is false
// when the tree is the same as tip's. The new objects go into the clone as
// one pack, which is returned for the push: it holds what the remote lacks
// when its branch is at tip.
func (w *Writer) commit(c *clone, tip plumbing.Hash, changes *dirChanges, b Batch) (plumbing.Hash, []byte, bool, error) {
	s := newOverlay(c.repo.Storer, c.packDir())
	var baseTree plumbing.Hash
	var parents []plumbing.Hash
	if !tip.IsZero() {
		tc, err := object.GetCommit(s, tip)
		if err != nil {
			return plumbing.ZeroHash, nil, false, fmt.Errorf("gitops: read tip %s: %w", tip, err)
		}
		baseTree, parents = tc.TreeHash, []plumbing.Hash{tip}
	}
	tree, err := applyTree(s, baseTree, changes)
	if err != nil {
		return plumbing.ZeroHash, nil, false, err
	}
	if tree == baseTree {
		return tip, nil, false, nil
	}
	if tree.IsZero() {
		if tree, err = writeObject(s, &object.Tree{}); err != nil {
			return plumbing.ZeroHash, nil, false, err
		}
	}
	when := w.now()
	author := b.Author
	if author.Name == "" {
		author = w.opts.Committer
	}
	commit := &object.Commit{
		Author:       object.Signature{Name: author.Name, Email: author.Email, When: when},
		Committer:    object.Signature{Name: w.opts.Committer.Name, Email: w.opts.Committer.Email, When: when},
		Message:      b.Message,
		TreeHash:     tree,
		ParentHashes: parents,
	}
	h, err := writeObject(s, commit)
	if err != nil {
		return plumbing.ZeroHash, nil, false, err
	}
	pack, err := s.flush()
	if err != nil {
		return plumbing.ZeroHash, nil, false, err
	}
	return h, pack, true, nil
}

func (w *Writer) cloneDir(url, branch string) string {
	sum := sha256.Sum256([]byte(url + "\x00" + branch))
	return filepath.Join(w.opts.WorkDir, hex.EncodeToString(sum[:8]))
}

func (w *Writer) lock(dir string) func() {
	w.mu.Lock()
	l := w.locks[dir]
	if l == nil {
		l = &sync.Mutex{}
		w.locks[dir] = l
	}
	w.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func hashString(h plumbing.Hash) string {
	if h.IsZero() {
		return ""
	}
	return h.String()
}
