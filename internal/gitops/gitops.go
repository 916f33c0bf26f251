// Package gitops writes rendered CRs into Git with go-git: a bare clone
// per repository and branch, kept in a bounded cache (least recently used
// and idle clones removed, never one in use), every URL checked against the
// access policy (gitaccess) before the breaker and any transport, trees
// built from the object store
// (never a worktree scan), one commit per batch, nothing committed when
// nothing changed, and a bounded push retry that rebuilds the batch on the
// new tip when another writer pushed first.
package gitops

import (
	"context"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
)

// Errors of the Git domain. The remote answered each of them: they say so
// to a circuit breaker (BreakerNeutral), so none counts as an outage.
var (
	ErrBadChange error = answer("gitops: bad change")
	// ErrAuth: the remote refused our credentials. Not retried.
	ErrAuth error = answer("gitops: authentication failed")
	// ErrRejected: the remote declined the push (a hook, a protected
	// branch). Not retried.
	ErrRejected error = answer("gitops: push rejected by the remote")
	// ErrConflict: another writer kept winning the race to the branch.
	ErrConflict error = answer("gitops: branch kept moving; push retries exhausted")
	// ErrNotFound: the remote has no such repository (HTTP 404, "repository
	// not found"). The fabric's URL is wrong, not the remote down.
	ErrNotFound error = answer("gitops: repository not found")
	// ErrBadBranch: the branch name is not a valid Git branch name.
	ErrBadBranch error = answer("gitops: invalid branch name")
)

// answerError is an error the remote answered with (or a bad batch the
// remote never saw): the remote is up.
type answerError struct{ msg string }

func answer(msg string) *answerError { return &answerError{msg: msg} }

func (e *answerError) Error() string { return e.msg }

// BreakerNeutral tells a circuit breaker (breaker.Neutraler) that the
// remote is up.
func (e *answerError) BreakerNeutral() bool { return true }

// Guard runs each call to a remote through that remote's circuit breaker
// (breaker.Set.Guard). A call the guard refuses returns its error.
type Guard interface {
	Do(ctx context.Context, remote string, fn func(context.Context) error) error
}

// Access is the Git access policy (gitaccess.Policy): whether a URL may be
// reached, its canonical form, and the credentials that are for it.
type Access interface {
	Resolve(url string) (gitaccess.Remote, gitaccess.Credentials, error)
}

// Signature names a commit's author or committer.
type Signature struct {
	Name, Email string
}

// Options configure a Writer.
type Options struct {
	// WorkDir holds one bare clone per repository and branch.
	WorkDir string
	// Access decides which URLs may be reached and with which
	// credentials; every Apply and Files asks it first. Required.
	Access Access
	// CloneCacheMax bounds the clones kept in WorkDir (default 64): the
	// least recently used clone not in use goes first.
	CloneCacheMax int
	// CloneMaxIdle removes a clone unused this long (default 1h): its
	// fabric is gone or moved.
	CloneMaxIdle time.Duration
	// Committer is the sidecar's identity.
	Committer Signature
	// PushAttempts bounds pushes per batch when the branch moves under us.
	PushAttempts int
	// Guard, when set, runs each Apply and Files through the remote's
	// circuit breaker.
	Guard Guard
	// SSHKnownHosts is the path of the known_hosts file every ssh remote's
	// host key is checked against (HNP_GIT_SSH_KNOWN_HOSTS); read at each
	// resolve. Unset: ssh remotes are refused.
	SSHKnownHosts string
	// CABundle is PEM certificates trusted for https remotes beside the
	// system's roots (HNP_GIT_CA_FILE).
	CABundle []byte
}
