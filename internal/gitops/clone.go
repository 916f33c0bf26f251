package gitops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// errStale: the remote branch is not where we built on.
var errStale = errors.New("gitops: remote branch moved")

// clone is a persistent bare repository tracking one remote branch.
type clone struct {
	repo   *git.Repository
	auth   transport.AuthMethod
	branch string
}

// openClone opens the bare repository in dir, or makes it. The remote URL
// carries no credentials; they are passed per operation.
func openClone(dir, url string) (*clone, error) {
	r, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		r, err = git.PlainInit(dir, true)
		if err == nil {
			_, err = r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("gitops: open clone %s: %w", dir, err)
	}
	return &clone{repo: r}, nil
}

func (c *clone) remoteRef() plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName("origin", c.branch)
}

// fetch brings the remote branch into refs/remotes/origin/<branch> and
// returns its tip; zero when the branch (or the repository) is empty.
func (c *clone) fetch(ctx context.Context) (plumbing.Hash, error) {
	spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", c.branch, c.remoteRef()))
	err := c.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{spec}, Auth: c.auth, Force: true})
	var noMatch git.NoMatchingRefSpecError
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
	case errors.Is(err, transport.ErrEmptyRemoteRepository), errors.As(err, &noMatch):
		_ = c.repo.Storer.RemoveReference(c.remoteRef())
		return plumbing.ZeroHash, nil
	default:
		return plumbing.ZeroHash, classify("fetch", err)
	}
	ref, err := c.repo.Reference(c.remoteRef(), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gitops: fetch: %w", err)
	}
	return ref.Hash(), nil
}

// push sends commit to the remote branch. A branch that moved since our
// fetch answers errStale.
func (c *clone) push(ctx context.Context, commit plumbing.Hash) error {
	local := plumbing.NewBranchReferenceName(c.branch)
	if err := c.repo.Storer.SetReference(plumbing.NewHashReference(local, commit)); err != nil {
		return fmt.Errorf("gitops: set %s: %w", local, err)
	}
	spec := config.RefSpec(fmt.Sprintf("%s:refs/heads/%s", local, c.branch))
	err := c.repo.PushContext(ctx, &git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{spec}, Auth: c.auth})
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		return c.repo.Storer.SetReference(plumbing.NewHashReference(c.remoteRef(), commit))
	}
	return classify("push", err)
}

// classify maps transport errors onto the domain's errors.
func classify(op string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, git.ErrNonFastForwardUpdate), strings.Contains(msg, "non-fast-forward"),
		strings.Contains(msg, "fetch first"), strings.Contains(msg, "cannot lock ref"):
		return fmt.Errorf("%w: %s: %v", errStale, op, err)
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("%w: %s: %v", ErrAuth, op, err)
	case strings.Contains(msg, "hook declined"), strings.Contains(msg, "rejected"), strings.Contains(msg, "protected branch"):
		return fmt.Errorf("%w: %s: %v", ErrRejected, op, err)
	}
	return fmt.Errorf("gitops: %s: %w", op, err)
}
