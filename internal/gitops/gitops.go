// Package gitops writes rendered CRs into Git with go-git: one persistent
// bare clone per repository and branch, trees built from the object store
// (never a worktree scan), one commit per batch, nothing committed when
// nothing changed, and a bounded push retry that rebuilds the batch on the
// new tip when another writer pushed first.
package gitops

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/plumbing/transport/ssh"
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

// Credentials for the remote; never written into the clone's config.
type Credentials struct {
	Username string
	Token    string // password or token for HTTP(S)
	// SSHKeyFile is a private key for ssh:// and scp-like URLs.
	SSHKeyFile string
}

func (c Credentials) auth(url string) (transport.AuthMethod, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return nil, fmt.Errorf("gitops: repository URL: %w", err)
	}
	switch ep.Protocol {
	case "ssh":
		if c.SSHKeyFile == "" {
			return nil, nil
		}
		user := c.Username
		if user == "" {
			user = ep.User
		}
		if user == "" {
			user = "git"
		}
		k, err := ssh.NewPublicKeysFromFile(user, c.SSHKeyFile, "")
		if err != nil {
			return nil, fmt.Errorf("gitops: ssh key: %w", err)
		}
		return k, nil
	case "http", "https":
		if c.Token == "" {
			return nil, nil
		}
		user := c.Username
		if user == "" {
			user = "hnp-sidecar" // token-only hosts accept any user name
		}
		return &githttp.BasicAuth{Username: user, Password: c.Token}, nil
	}
	return nil, nil
}

// Signature names a commit's author or committer.
type Signature struct {
	Name, Email string
}

// Options configure a Writer.
type Options struct {
	// WorkDir holds one bare clone per repository and branch.
	WorkDir     string
	Credentials Credentials
	// Committer is the sidecar's identity.
	Committer Signature
	// PushAttempts bounds pushes per batch when the branch moves under us.
	PushAttempts int
	// Guard, when set, runs each Apply and Files through the remote's
	// circuit breaker.
	Guard Guard
}
