package netbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// Ref is a foreign key as NetBox may render it: an id, a numeric string or
// a nested object with "id"; zero when null or absent.
type Ref int64

// UnmarshalJSON accepts every form of a foreign key.
func (r *Ref) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*r = 0
		return nil
	case b[0] == '{':
		var o struct {
			ID Ref `json:"id"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		*r = o.ID
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n, err := strconv.ParseInt(s, 10, 64)
		*r = Ref(n)
		return err
	}
	var n int64
	err := json.Unmarshal(b, &n)
	*r = Ref(n)
	return err
}

// Object is one Hedgehog CR object as the plugin serves it. Fields the
// sidecar does not use are ignored, and unknown enum values are kept as
// strings, so a newer plugin never breaks a sync.
type Object struct {
	ID               int64          `json:"id"`
	Fabric           Ref            `json:"fabric"`
	Name             string         `json:"name"`
	Namespace        string         `json:"namespace"`
	Spec             map[string]any `json:"spec"`
	Labels           map[string]any `json:"labels"`
	Annotations      map[string]any `json:"annotations"`
	KubernetesStatus string         `json:"kubernetes_status"`
	SyncError        string         `json:"sync_error"`
	GitFilePath      string         `json:"git_file_path"`
	LastSynced       string         `json:"last_synced"`
	AutoSync         *bool          `json:"auto_sync"`
	LastUpdated      string         `json:"last_updated"`
}

// Fabric is the plugin's fabric with the fields the sidecar reads.
type Fabric struct {
	ID               int64  `json:"id"`
	Name             string `json:"name"`
	Status           string `json:"status"`
	GitRepository    Ref    `json:"git_repository"`
	GitopsDirectory  string `json:"gitops_directory"`
	GitRepositoryURL string `json:"git_repository_url"`
	GitBranch        string `json:"git_branch"`
	GitPath          string `json:"git_path"`
	KubernetesServer string `json:"kubernetes_server"`
	// KubernetesToken and KubernetesCACert reach the fabric's cluster (drift
	// detection); the token is a secret: never log a Fabric whole.
	KubernetesToken    string `json:"kubernetes_token"`
	KubernetesCACert   string `json:"kubernetes_ca_cert"`
	KubernetesNS       string `json:"kubernetes_namespace"`
	GitopsTool         string `json:"gitops_tool"`
	ArgocdHealthStatus string `json:"argocd_health_status"`
	// ArgocdServerURL is the fabric's Argo CD as the plugin knows it
	// (internal/placement decides whether the sidecar uses it).
	ArgocdServerURL    string `json:"argocd_server_url"`
	ArgocdInstalled    bool   `json:"argocd_installed"`
	GitopsSetupStatus  string `json:"gitops_setup_status"`
	GitopsAppName      string `json:"gitops_app_name"`
	GitopsNamespace    string `json:"gitops_namespace"`
	AutoSyncEnabled    *bool  `json:"auto_sync_enabled"`
	PruneEnabled       *bool  `json:"prune_enabled"`
	SelfHealEnabled    *bool  `json:"self_heal_enabled"`
	LastUpdated        string `json:"last_updated"`
	DesiredStateCommit string `json:"desired_state_commit"`
	SyncStatus         string `json:"sync_status"`
	LastGitSync        string `json:"last_git_sync"`
	DriftStatus        string `json:"drift_status"`
	DriftCount         int    `json:"drift_count"`
}

// GitRepository is a repository the plugin knows; credentials stay in
// NetBox (encrypted) and are not read.
type GitRepository struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// URL is the Git URL. The plugin's git-repos-api/ serves NetBox's API
	// link as "url" and the Git URL under repository_info.basic_info.url;
	// older builds served the Git URL as "url" (see UnmarshalJSON).
	URL           string `json:"-"`
	DefaultBranch string `json:"default_branch"`
}

// UnmarshalJSON takes the Git URL from repository_info.basic_info.url, else
// from "url" unless that is a link into NetBox's own API.
func (g *GitRepository) UnmarshalJSON(b []byte) error {
	var raw struct {
		ID             int64  `json:"id"`
		Name           string `json:"name"`
		URL            string `json:"url"`
		DefaultBranch  string `json:"default_branch"`
		RepositoryInfo struct {
			BasicInfo struct {
				URL string `json:"url"`
			} `json:"basic_info"`
		} `json:"repository_info"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*g = GitRepository{ID: raw.ID, Name: raw.Name, URL: raw.RepositoryInfo.BasicInfo.URL, DefaultBranch: raw.DefaultBranch}
	if g.URL == "" && !strings.Contains(raw.URL, "/api/plugins/") {
		g.URL = raw.URL
	}
	return nil
}

// GetObject reads one CR object. ErrNotFound means it was deleted.
func (c *Client) GetObject(ctx context.Context, k kind.Kind, id int64) (Object, error) {
	var o Object
	err := c.Do(ctx, http.MethodGet, fmt.Sprintf("%s%s%d/", PluginPath, k.Endpoint, id), nil, &o)
	return o, err
}

// GetFabric reads one fabric. ErrNotFound means it was deleted.
func (c *Client) GetFabric(ctx context.Context, id int64) (Fabric, error) {
	var f Fabric
	err := c.Do(ctx, http.MethodGet, fmt.Sprintf("%s%s%d/", PluginPath, kind.Fabric.Endpoint, id), nil, &f)
	return f, err
}

// Endpoints of the plugin's Git repositories: the current one, and the one
// plugin builds before July 2025 served (DESIGN.md §4).
const (
	GitReposEndpoint       = "git-repos-api/"
	LegacyGitReposEndpoint = "git-repositories/"
)

// GetGitRepository reads one Git repository from git-repos-api/, or from
// the older git-repositories/ when the first answers 404. ErrNotFound
// (from both) is a configuration error, never a deletion: a non-superuser
// sees only the repositories it created.
func (c *Client) GetGitRepository(ctx context.Context, id int64) (GitRepository, error) {
	var g GitRepository
	err := c.Do(ctx, http.MethodGet, fmt.Sprintf("%s%s%d/", PluginPath, GitReposEndpoint, id), nil, &g)
	if !errors.Is(err, ErrNotFound) {
		return g, err
	}
	if lerr := c.Do(ctx, http.MethodGet, fmt.Sprintf("%s%s%d/", PluginPath, LegacyGitReposEndpoint, id), nil, &g); !errors.Is(lerr, ErrNotFound) {
		return g, lerr
	}
	return GitRepository{}, err
}

// ListFabrics lists every fabric.
func (c *Client) ListFabrics(ctx context.Context) ([]Fabric, error) {
	return list[Fabric](ctx, c, PluginPath+kind.Fabric.Endpoint)
}

// ListObjects lists every object of kind k in fabric. The plugin's list
// endpoints have no filters: all pages are read and filtered here.
func (c *Client) ListObjects(ctx context.Context, k kind.Kind, fabric int64) ([]Object, error) {
	all, err := list[Object](ctx, c, PluginPath+k.Endpoint)
	if err != nil {
		return nil, err
	}
	return inFabric(all, fabric, func(o Object) Ref { return o.Fabric }), nil
}

// inFabric keeps the items of all whose fabric (of) is fabric, in place.
func inFabric[T any](all []T, fabric int64, of func(T) Ref) []T {
	out := all[:0]
	for _, it := range all {
		if int64(of(it)) == fabric {
			out = append(out, it)
		}
	}
	return out
}

type page[T any] struct {
	Count   int `json:"count"`
	Results []T `json:"results"`
}

// list reads every page of a list endpoint by offset.
func list[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	var out []T
	for offset := 0; ; {
		var p page[T]
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		if err := c.Do(ctx, http.MethodGet, fmt.Sprintf("%s%slimit=%d&offset=%d", path, sep, c.pageSize, offset), nil, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Results...)
		offset += len(p.Results)
		if len(p.Results) == 0 || offset >= p.Count {
			return out, nil
		}
	}
}

// Values of the fabric's sync_status the sidecar writes. The plugin's
// serializer takes only its model's choices (never_synced, in_sync,
// out_of_sync, syncing, error: "synced" is a 400), and the July-2025
// builds' database CHECK valid_sync_status only synced, syncing, error and
// never_synced (in_sync is a 500 there; migration 0028 of later builds
// fixes the CHECK). So in_sync is written and, where refused, told in the
// fabric's journal instead; out of sync is "error", which every build
// stores.
const (
	SyncStatusInSync  = "in_sync"
	SyncStatusSyncing = "syncing"
	SyncStatusError   = "error"
)

// Values of the fabric's drift_status the sidecar writes (of the plugin's
// in_sync, drift_detected, git_ahead, cluster_ahead, conflicts).
const (
	DriftStatusInSync   = "in_sync"
	DriftStatusDetected = "drift_detected"
)

// ArgocdHealthStatus is the plugin's argocd_health_status (its choices:
// unknown, healthy, unhealthy, degraded, installing, failed) for an Argo CD
// Application's health (Healthy, Progressing, Degraded, Suspended, Missing,
// Unknown); "" for "".
func ArgocdHealthStatus(argo string) string {
	switch argo {
	case "":
		return ""
	case "Healthy":
		return "healthy"
	case "Degraded":
		return "degraded"
	case "Missing", "Suspended":
		return "unhealthy"
	}
	return "unknown" // Progressing: not yet known to be healthy
}
