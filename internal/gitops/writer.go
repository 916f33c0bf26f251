package gitops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/prometheus/client_golang/prometheus"
)

// Writer commits batches of changes to Git remotes.
type Writer struct {
	opts   Options
	logger *slog.Logger
	now    func() time.Time
	clones *clones
	pushes *prometheus.CounterVec
	// signers keeps the SSH keys decrypted (sshauth.go).
	signers *signers
	// beforePush, when set by a test, runs between building and pushing.
	beforePush func(attempt int)
}

// New builds a Writer; clones are made on first use.
func New(opts Options, logger *slog.Logger) (*Writer, error) {
	if opts.WorkDir == "" {
		return nil, errors.New("gitops: work dir is required")
	}
	if opts.Access == nil {
		return nil, errors.New("gitops: an access policy is required")
	}
	if opts.CloneCacheMax <= 0 {
		opts.CloneCacheMax = 64
	}
	if opts.CloneMaxIdle <= 0 {
		opts.CloneMaxIdle = time.Hour
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
	w := &Writer{opts: opts, logger: logger, now: time.Now, pushes: newPushCounter(), signers: newSigners()}
	w.clones = newClones(opts.WorkDir, opts.CloneCacheMax, opts.CloneMaxIdle, func() time.Time { return w.now() }, logger)
	return w, nil
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
	// Since, when set, is the commit the batch was planned from (NoCommit:
	// the branch had none). After each fetch Apply compares Owned between
	// Since and the fetched tip; if another writer changed them, Apply
	// returns ErrMoved and pushes nothing: the caller must read its source
	// again, never rebuild an older view on the newer tip.
	Since string
	// Owned lists the paths (directories or files) the batch owns; only
	// they are compared against Since.
	Owned []string
	// Fence, when set, runs right before each push attempt; an error
	// aborts the Apply (wrapped, ErrFenced) with nothing pushed. A lease
	// holder checks that it still holds the lease.
	Fence func(context.Context) error
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
//
// The URL is checked against the access policy first, before the breaker
// and any transport: a refused URL (gitaccess.ErrRefused) reaches neither.
func (w *Writer) Apply(ctx context.Context, b Batch) (res Result, err error) {
	defer func() { w.countPush(ctx, res, err) }()
	t, err := w.resolve(b.URL, b.Branch)
	if err != nil {
		return res, err
	}
	changes, err := group(b.Changes, b.Replace)
	if err != nil {
		return res, err
	}
	err = w.guard(ctx, t.remote.String(), func(ctx context.Context) error {
		var err error
		res, err = w.apply(ctx, t, changes, b)
		return err
	})
	return res, err
}

// guard runs fn through the remote's breaker, if there is a Guard. The
// remote is the canonical URL of an allowed remote.
func (w *Writer) guard(ctx context.Context, remote string, fn func(context.Context) error) error {
	if w.opts.Guard == nil {
		return fn(ctx)
	}
	return w.opts.Guard.Do(ctx, remote, fn)
}

func (w *Writer) apply(ctx context.Context, t target, changes *dirChanges, b Batch) (Result, error) {
	c, release, err := w.open(t)
	if err != nil {
		return Result{}, err
	}
	defer release()
	for attempt := 1; attempt <= w.opts.PushAttempts; attempt++ {
		tip, err := c.fetch(ctx)
		if err != nil {
			return Result{Attempts: attempt}, err
		}
		if b.Since != "" {
			if err := movedSince(c, b.Since, tip, b.Owned); err != nil {
				return Result{Attempts: attempt}, err
			}
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
		if b.Fence != nil {
			if err := b.Fence(ctx); err != nil {
				return Result{Attempts: attempt}, &fenceError{err: err}
			}
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
	author := sanitize(b.Author)
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

func hashString(h plumbing.Hash) string {
	if h.IsZero() {
		return ""
	}
	return h.String()
}
