package gitops

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
)

// errStale: the remote branch is not where we built on.
var errStale = errors.New("gitops: remote branch moved")

// clone is a persistent bare repository tracking one remote branch.
type clone struct {
	repo     *git.Repository
	dir, url string
	auth     transport.AuthMethod
	branch   string
	caBundle []byte // PEM roots for https beside the system's
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
	return &clone{repo: r, dir: dir, url: url}, nil
}

// packDir is where the bare clone keeps its packfiles.
func (c *clone) packDir() string { return filepath.Join(c.dir, "objects", "pack") }

func (c *clone) remoteRef() plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName("origin", c.branch)
}

// fetch brings the remote branch into refs/remotes/origin/<branch> and
// returns its tip; zero when the branch (or the repository) is empty.
func (c *clone) fetch(ctx context.Context) (plumbing.Hash, error) {
	spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", c.branch, c.remoteRef()))
	err := c.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{spec}, Auth: c.auth, Force: true, CABundle: c.caBundle})
	var noMatch git.NoMatchingRefSpecError
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
	case errors.Is(err, transport.ErrEmptyRemoteRepository), errors.As(err, &noMatch):
		_ = c.repo.Storer.RemoveReference(c.remoteRef())
		return plumbing.ZeroHash, nil
	default:
		return plumbing.ZeroHash, c.classify("fetch", err)
	}
	ref, err := c.repo.Reference(c.remoteRef(), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gitops: fetch: %w", err)
	}
	return ref.Hash(), nil
}

// push sends commit, built on old, to the remote branch with pack, the
// objects the remote lacks (go-git's own push would walk the history and
// search deltas among every new object to make the same pack again). A
// branch that is not at old answers errStale.
func (c *clone) push(ctx context.Context, old, commit plumbing.Hash, pack []byte) error {
	local := plumbing.NewBranchReferenceName(c.branch)
	if err := c.repo.Storer.SetReference(plumbing.NewHashReference(local, commit)); err != nil {
		return fmt.Errorf("gitops: set %s: %w", local, err)
	}
	if err := c.send(ctx, old, commit, pack); err != nil {
		return c.classify("push", err)
	}
	return c.repo.Storer.SetReference(plumbing.NewHashReference(c.remoteRef(), commit))
}

func (c *clone) send(ctx context.Context, old, commit plumbing.Hash, pack []byte) (err error) {
	ep, err := transport.NewEndpoint(c.url)
	if err != nil {
		return err
	}
	ep.CaBundle = c.caBundle
	cl, err := client.NewClient(ep)
	if err != nil {
		return err
	}
	sess, err := cl.NewReceivePackSession(ep, c.auth)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, sess.Close()) }()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return err
	}
	name := plumbing.NewBranchReferenceName(c.branch)
	refs, err := ar.AllReferences()
	if err != nil {
		return err
	}
	var at plumbing.Hash
	if ref, err := refs.Reference(name); err == nil {
		at = ref.Hash()
	}
	if at != old {
		return fmt.Errorf("%w: %s is at %s, built on %s", errStale, name, hashString(at), hashString(old))
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	req.Commands = []*packp.Command{{Name: name, Old: old, New: commit}}
	if len(pack) > 0 {
		req.Packfile = io.NopCloser(bytes.NewReader(pack))
	}
	rs, err := sess.ReceivePack(ctx, req)
	if err != nil {
		return err
	}
	if rs != nil {
		return rs.Error()
	}
	return nil
}

// classify maps transport errors onto the domain's errors; a host key
// known_hosts does not have for the remote, or a certificate no trusted
// CA signed, is a refusal of its URL.
func (c *clone) classify(op string, err error) error {
	if re := cmp.Or(refusedHostKey(c.url, err), refusedCertificate(c.url, err)); re != nil {
		return fmt.Errorf("gitops: %s: %w", op, re)
	}
	return classify(op, err)
}

// classify maps transport errors onto the domain's errors.
func classify(op string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, git.ErrNonFastForwardUpdate), strings.Contains(msg, "non-fast-forward"),
		strings.Contains(msg, "fetch first"), strings.Contains(msg, "cannot lock ref"),
		// receive-pack's report when the ref moved between its
		// advertisement and our update (the lock message goes to stderr)
		strings.Contains(msg, "failed to update ref"):
		return fmt.Errorf("%w: %s: %v", errStale, op, err)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%w: %s: %v", ErrNotFound, op, err)
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("%w: %s: %v", ErrAuth, op, err)
	case strings.Contains(msg, "hook declined"), strings.Contains(msg, "rejected"), strings.Contains(msg, "protected branch"):
		return fmt.Errorf("%w: %s: %v", ErrRejected, op, err)
	}
	return fmt.Errorf("gitops: %s: %w", op, err)
}
