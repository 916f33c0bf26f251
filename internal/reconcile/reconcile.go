// Package reconcile is the one place that knows the order of the steps:
// read NetBox's current truth, validate, render, and write Git. It declares
// the small interfaces it needs from the clients below it.
package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/githedgehog/hnp-sidecar/internal/gitaccess"
	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// Errors of the reconciler.
var (
	// ErrNoRepository: the fabric names no Git repository and there is no
	// default.
	ErrNoRepository = errors.New("reconcile: fabric has no Git repository")
	// ErrFabricGone: NetBox answers 404 for the fabric itself, the only
	// proof that it was deleted.
	ErrFabricGone = errors.New("reconcile: fabric not found in NetBox")
	// ErrFabricConfig: the fabric's configuration or data, or the sidecar's
	// rights in NetBox, keep it from being synced; only a person can fix it
	// (see ConfigError).
	ErrFabricConfig = errors.New("reconcile: fabric cannot be synced as configured")
)

// ConfigError is a problem of a fabric's configuration or data that no
// retry can fix: a Git repository the sidecar's NetBox user cannot read,
// a repository without URL, a kind it may not list. Reason is the text the
// user sees (the objects' sync_error, the fabric's journal, health, the
// CLI).
type ConfigError struct {
	Fabric string
	Reason string
	// Cause is the error behind it, if any. It is deliberately not in the
	// Unwrap chain: a repository's netbox.ErrNotFound must never read as
	// the fabric's.
	Cause error
}

func (e *ConfigError) Error() string { return "reconcile: fabric " + e.Fabric + ": " + e.Reason }

// Unwrap makes a ConfigError match ErrFabricConfig.
func (e *ConfigError) Unwrap() error { return ErrFabricConfig }

func configError(f netbox.Fabric, cause error, format string, args ...any) error {
	return &ConfigError{Fabric: f.Name, Reason: fmt.Sprintf(format, args...), Cause: cause}
}

// NetBox is what the reconciler reads from NetBox.
type NetBox interface {
	GetFabric(ctx context.Context, id int64) (netbox.Fabric, error)
	GetObject(ctx context.Context, k kind.Kind, id int64) (netbox.Object, error)
	GetGitRepository(ctx context.Context, id int64) (netbox.GitRepository, error)
	ListObjects(ctx context.Context, k kind.Kind, fabric int64) ([]netbox.Object, error)
}

// Git writes batches, and reads a directory of a branch (the snapshot a
// full reconcile starts from: see evidence.go).
type Git interface {
	Apply(ctx context.Context, b gitops.Batch) (gitops.Result, error)
	Files(ctx context.Context, url, branch, dir string) (string, map[string][]byte, error)
}

// Defaults apply to fabrics that name no repository or branch.
type Defaults struct {
	GitURL, GitBranch string
	// Access, when set, refuses Git URLs the sidecar may not reach
	// (gitaccess.Policy): such a fabric has a configuration problem.
	Access GitAccess
}

// GitAccess says whether a Git URL may be reached.
type GitAccess interface {
	Check(url string) (gitaccess.Remote, error)
}

// Reconciler makes Git match NetBox.
type Reconciler struct {
	nb         NetBox
	git        Git
	defaults   Defaults
	logger     *slog.Logger
	states     States    // nil: states not recorded
	wb         WriteBack // nil: nothing written back to NetBox
	writer     *writer
	deployer   Deployer // nil: commits are not deployed
	argo       ArgoDefaults
	problems   Problems               // nil: problems are logged and journalled every time
	runs       *prometheus.CounterVec // nil: runs not counted
	guarded    prometheus.Counter     // runs the deletion guard refused
	moved      prometheus.Counter     // runs started over (gitops.ErrMoved)
	fabrics    FabricLister           // nil: overlapping fabrics not checked
	enqueue    Enqueuer
	metricsErr error
	maxDelete  float64        // guard.go; 0: DefaultMaxDeleteFraction
	deletes    DeleteEvidence // evidence_webhooks.go; nil: only the run's own hints
	waiting    ChangeHints    // latency.go; nil: only the run's own hints are measured
	snaps      Snapshots      // incremental.go; nil: every run is a full one
	fallbacks  *prometheus.CounterVec
	res        *resources // resources.go; nil: no HedgehogResources
}

// Option adds an optional part to a Reconciler.
type Option func(*Reconciler)

// WithStates records each object's GitOps state in st.
func WithStates(st States) Option { return func(r *Reconciler) { r.states = st } }

// WithWriteBack shows states in NetBox through wb (needs WithStates).
func WithWriteBack(wb WriteBack) Option { return func(r *Reconciler) { r.wb = wb } }

// New builds a Reconciler.
func New(nb NetBox, git Git, defaults Defaults, logger *slog.Logger, opts ...Option) *Reconciler {
	if defaults.GitBranch == "" {
		defaults.GitBranch = "main"
	}
	r := &Reconciler{nb: nb, git: git, defaults: defaults, logger: logger}
	for _, o := range opts {
		o(r)
	}
	if rc, ok := r.wb.(ResourceClient); ok {
		r.res = newResources(rc, logger)
	}
	r.writer = newWriter(r)
	return r
}

// Target is where a fabric's files go.
type Target struct {
	URL, Branch string
	// Root is the fabric's directory in the repository, "" for the top.
	Root string
}

// target resolves a fabric's repository: its git_repository object, else
// the legacy git_repository_url/git_branch/git_path, else the defaults
// (DESIGN.md §4).
func (r *Reconciler) target(ctx context.Context, f netbox.Fabric) (Target, error) {
	return resolveTarget(ctx, r.nb, r.defaults, r.logger, f)
}

// GitRepositories reads the plugin's git-repositories/ objects.
type GitRepositories interface {
	GetGitRepository(ctx context.Context, id int64) (netbox.GitRepository, error)
}

func resolveTarget(ctx context.Context, repos GitRepositories, d Defaults, logger *slog.Logger, f netbox.Fabric) (Target, error) {
	t := Target{Branch: cmp.Or(d.GitBranch, "main"), Root: f.GitopsDirectory}
	switch {
	case f.GitRepository != 0:
		repo, err := repos.GetGitRepository(ctx, int64(f.GitRepository))
		ae := netbox.AsAPIError(err)
		switch {
		case errors.Is(err, netbox.ErrNotFound):
			return Target{}, configError(f, err, "its Git repository (id %d) cannot be read: NetBox answers 404 to the sidecar's "+
				"user on %s%d/ (the repository was deleted, or the sidecar's NetBox user is not a superuser and did not create it: "+
				"the plugin shows a repository only to its creator)", f.GitRepository, netbox.GitReposEndpoint, f.GitRepository)
		case netbox.Refused(err):
			return Target{}, configError(f, err, "its Git repository (id %d) cannot be read: NetBox answers HTTP %d to the sidecar's user: %s",
				f.GitRepository, ae.Status, ae.Answer())
		case err != nil:
			return Target{}, fmt.Errorf("reconcile: fabric %s: git repository %d: %w", f.Name, f.GitRepository, err)
		}
		if strings.TrimSpace(repo.URL) == "" {
			return Target{}, configError(f, nil, "its Git repository %q (id %d) has no URL", repo.Name, repo.ID)
		}
		t.URL = repo.URL
		if repo.DefaultBranch != "" {
			t.Branch = repo.DefaultBranch
		}
	case f.GitRepositoryURL != "":
		t.URL = f.GitRepositoryURL
		if f.GitBranch != "" {
			t.Branch = f.GitBranch
		}
		if f.GitPath != "" && strings.Trim(f.GitopsDirectory, "/") == "" {
			t.Root = f.GitPath
		}
	default:
		t.URL = d.GitURL
	}
	if t.URL == "" {
		return Target{}, configError(f, ErrNoRepository, "it has no Git repository: set its git_repository (or git_repository_url) in NetBox, or HNP_GIT_DEFAULT_URL")
	}
	if u, err := url.Parse(t.URL); err == nil && u.User != nil {
		// Credentials come from the sidecar's own configuration; a URL
		// that carries some must not put them in the clone, logs or NetBox.
		u.User = nil
		t.URL = u.String()
		logger.Warn("credentials in the fabric's Git URL ignored; set them in HNP_GIT_CREDENTIALS_FILE", "fabric", f.Name, "url", t.URL)
	}
	if d.Access != nil {
		if _, err := d.Access.Check(t.URL); err != nil {
			return Target{}, refused(f, err)
		}
	}
	t.Root = strings.Trim(t.Root, "/")
	return t, nil
}

// refused is the configuration problem of a fabric whose Git URL the
// access policy refuses.
func refused(f netbox.Fabric, err error) error {
	var re *gitaccess.RefusedError
	if errors.As(err, &re) {
		return configError(f, err, "its Git URL %s may not be used: %s", re.URL, re.Reason)
	}
	return configError(f, err, "its Git URL may not be used: %v", err)
}

// gitDataError is the configuration problem behind a push that failed
// because of the fabric's own data — a repository the remote does not
// have, an invalid branch, a refused URL — or nil for anything else (an
// outage is retried). Such errors are neutral for the breaker: one bad
// fabric never stops the others on its host.
func gitDataError(f netbox.Fabric, t Target, err error) error {
	switch {
	case errors.Is(err, gitaccess.ErrRefused):
		return refused(f, err)
	case errors.Is(err, gitops.ErrNotFound):
		return configError(f, err, "its Git repository %s does not exist (the remote answers \"repository not found\" to the sidecar's "+
			"credentials for that host): fix the URL in NetBox, or give the sidecar access to the repository", t.URL)
	case errors.Is(err, gitops.ErrBadBranch):
		return configError(f, err, "its Git branch %q is not a valid branch name: fix it in NetBox", t.Branch)
	}
	return nil
}
