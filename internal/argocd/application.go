// Package argocd drives one Argo CD Application per fabric: it creates or
// updates the Application and the repository it reads, asks Argo CD to
// refresh and sync to the commit the sidecar pushed, and reads whether
// that commit is applied (DESIGN.md §8). Two drivers: Argo CD's REST API
// and the Kubernetes API (the Application custom resource).
package argocd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Errors of the Argo CD drivers.
var (
	// ErrBusy: another operation is running on the Application; back off
	// and retry. Not a failure of Argo CD.
	ErrBusy = errors.New("argocd: another operation is already in progress")
	// ErrNotFound: no such Application.
	ErrNotFound = errors.New("argocd: application not found")
)

// App is the Application the sidecar wants for one fabric.
type App struct {
	Name, Namespace, Project string
	// RepoURL, Revision (the branch) and Path (<root>/managed) of the source.
	RepoURL, Revision, Path   string
	DestServer, DestNamespace string
	// Automated turns on automated sync, with Prune and SelfHeal.
	Automated, Prune, SelfHeal bool
	// Fabric names the fabric in a label; FabricID is its NetBox id, the
	// owner label (OwnedBy).
	Fabric   string
	FabricID int64
}

// SyncOptions go on every Application and every sync the sidecar asks for:
// with ApplyOutOfSyncOnly, a sync applies only the objects that changed and
// skips the sync waves that have none, instead of re-applying the whole
// fabric wave by wave (one VPC edit in the sample fabric: ~10 s → ~2 s).
var SyncOptions = []string{"ApplyOutOfSyncOnly=true"}

// syncOptions is SyncOptions as a JSON value.
func syncOptions() []any {
	out := make([]any, len(SyncOptions))
	for i, o := range SyncOptions {
		out[i] = o
	}
	return out
}

// Object is the Application as a Kubernetes object (what both drivers
// send), shaped as DESIGN.md §8 shows.
func (a App) Object() map[string]any {
	sp := map[string]any{
		"retry":       map[string]any{"limit": int64(-1), "refresh": true},
		"syncOptions": syncOptions(),
	}
	if a.Automated {
		sp["automated"] = map[string]any{"prune": a.Prune, "selfHeal": a.SelfHeal}
	}
	return map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata": map[string]any{
			"name": a.Name, "namespace": a.Namespace,
			"labels": map[string]any{LabelManagedBy: ManagedBy, LabelFabricID: fabricLabel(a.FabricID),
				"hnp.githedgehog.com/fabric": labelValue(a.Fabric)},
		},
		"spec": map[string]any{
			"project": a.Project,
			"source": map[string]any{"repoURL": a.RepoURL, "targetRevision": a.Revision, "path": a.Path,
				"directory": map[string]any{"recurse": true}},
			"destination": map[string]any{"server": a.DestServer, "namespace": a.DestNamespace},
			"syncPolicy":  sp,
		},
	}
}

// labelValue makes s a valid label value (63 characters of [-A-Za-z0-9_.]).
func labelValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			b[i] = '-'
		}
	}
	return strings.Trim(string(b[:min(len(b), 63)]), "-_.")
}

// Repository is the Git repository Argo CD reads (a Secret labelled
// argocd.argoproj.io/secret-type=repository).
type Repository struct {
	URL, Username, Password, SSHPrivateKey string
}

// Resource is one resource's outcome in the last sync.
type Resource struct {
	Group, Kind, Namespace, Name string
	// Status is Synced, SyncFailed, Pruned, PruneSkipped …
	Status  string
	Message string
}

// Status is what Argo CD reports about the Application.
type Status struct {
	SyncStatus string // Synced, OutOfSync, Unknown
	Revision   string // status.sync.revision
	Health     string // Healthy, Progressing, Degraded, Missing …
	// Operation is the last (or running) operation's phase: Running,
	// Succeeded, Failed, Error, Terminating; "" when none ran yet.
	Operation         string
	OperationRevision string // operationState.syncResult.revision
	Message           string
	Resources         []Resource
	// Running: an operation is requested or running.
	Running bool
}

// Applied reports DESIGN.md §8's four conditions for commit x.
func (s Status) Applied(x string) bool {
	return s.SyncStatus == "Synced" && s.Revision == x && s.Operation == "Succeeded" && s.OperationRevision == x
}

// Finished reports whether the last operation for commit x ended (well
// or not).
func (s Status) Finished(x string) bool {
	if s.Running || s.OperationRevision != x {
		return false
	}
	switch s.Operation {
	case "Succeeded", "Failed", "Error":
		return true
	}
	return false
}

// Driver is one way of talking to Argo CD.
type Driver interface {
	// EnsureRepository creates the repository credentials, or updates
	// them when they are the sidecar's; ErrForeignRepository otherwise.
	EnsureRepository(ctx context.Context, namespace string, r Repository) error
	// EnsureProject creates the AppProject, or updates it when it is the
	// sidecar's; ErrForeignProject otherwise.
	EnsureProject(ctx context.Context, p Project) error
	// EnsureApplication creates the Application, or updates it when it is
	// this fabric's (OwnedBy); ErrForeignApplication otherwise.
	EnsureApplication(ctx context.Context, a App) error
	// Refresh makes Argo CD compare the Application with Git again.
	Refresh(ctx context.Context, namespace, name string) error
	// Sync asks for a sync to revision; ErrBusy when an operation runs.
	Sync(ctx context.Context, namespace, name, revision string, prune bool) error
	// Status reads the Application's status; ErrNotFound when absent.
	Status(ctx context.Context, namespace, name string) (Status, error)
}

// statusOf reads the status of an Application object (as JSON decoded
// into maps), the same for both drivers.
func statusOf(obj map[string]any) Status {
	var s Status
	s.SyncStatus = str(obj, "status", "sync", "status")
	s.Revision = str(obj, "status", "sync", "revision")
	s.Health = str(obj, "status", "health", "status")
	s.Operation = str(obj, "status", "operationState", "phase")
	s.OperationRevision = str(obj, "status", "operationState", "syncResult", "revision")
	if s.OperationRevision == "" {
		// A running operation has no result yet: the revision it syncs to.
		s.OperationRevision = str(obj, "status", "operationState", "operation", "sync", "revision")
	}
	s.Message = str(obj, "status", "operationState", "message")
	s.Running = s.Operation == "Running" || s.Operation == "Terminating"
	if op, ok := obj["operation"].(map[string]any); ok && len(op) > 0 {
		s.Running = true
	}
	if rs, ok := get(obj, "status", "operationState", "syncResult", "resources").([]any); ok {
		for _, r := range rs {
			m, _ := r.(map[string]any)
			s.Resources = append(s.Resources, Resource{Group: str(m, "group"), Kind: str(m, "kind"), Namespace: str(m, "namespace"),
				Name: str(m, "name"), Status: str(m, "status"), Message: str(m, "message")})
		}
	}
	return s
}

func get(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

func str(m map[string]any, path ...string) string {
	s, _ := get(m, path...).(string)
	return s
}

func wrap(op, ns, name string, err error) error {
	return fmt.Errorf("argocd: %s %s/%s: %w", op, ns, name, err)
}

// RepositorySecretName is the name of the repository Secret the sidecar
// applies for a Git URL: "hnp-repo-" and the URL's SHA-256 (hex), so no
// two URLs can be made to share a Secret.
func RepositorySecretName(url string) string {
	h := sha256.Sum256([]byte(url))
	return "hnp-repo-" + hex.EncodeToString(h[:])
}
