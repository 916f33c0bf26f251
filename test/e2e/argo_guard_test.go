package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	argocdenv "github.com/githedgehog/hnp-sidecar/internal/testenv/argocd"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// The Argo CD attacks through a real Argo CD (REST driver) and API server:
// an Application named by NetBox that is someone else's is left alone
// (before: upsert=true&validate=false took it over), and the sidecar's
// AppProject refuses a kind that is not Hedgehog's, even when the fabric's
// directory in Git holds one.
func TestArgoCDGuardREST(t *testing.T) {
	start := time.Now()
	cl := clusterenv.Start(t)
	ar := argocdenv.Start(t, argocdenv.Options{Config: cl.Config, RedisAddr: redisenv.Start(t).Addr,
		ConfigMapData: map[string]string{"timeout.reconciliation": "10s"}})
	t.Logf("API server and Argo CD up in %s", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dyn, err := cl.Dynamic()
	require.NoError(t, err)
	apps := dyn.Resource(argocd.ApplicationGVR).Namespace(ar.Namespace)
	rest, err := argocd.NewREST(ar.URL, ar.Token, nil)
	require.NoError(t, err)

	srv := gitenv.Start(t)
	repoURL := srv.NewRepo(t, "guard", "main")
	app := argocd.App{Name: "hedgehog-victim", Namespace: ar.Namespace, Project: argocd.DefaultProject, RepoURL: repoURL,
		Revision: "main", Path: "fab/managed", DestServer: ar.ClusterServer, DestNamespace: "default",
		Automated: false, Fabric: "fab", FabricID: 7}
	foreign := func(name string) {
		_, err := apps.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
			"metadata": map[string]any{"name": name, "namespace": ar.Namespace},
			"spec": map[string]any{"project": "default",
				"source":      map[string]any{"repoURL": "https://git.example.com/platform.git", "targetRevision": "main", "path": "platform"},
				"destination": map[string]any{"server": ar.ClusterServer, "namespace": "kube-system"}},
		}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	specOf := func(name string) (string, string, []string) {
		a, err := apps.Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		b, _ := json.Marshal(map[string]any{"spec": a.Object["spec"], "labels": a.GetLabels()})
		var managers []string
		for _, m := range a.GetManagedFields() {
			managers = append(managers, m.Manager)
		}
		return string(b), a.GetResourceVersion(), managers
	}

	// Before: what the REST driver sent until now.
	foreign("platform-before")
	was, _, _ := specOf("platform-before")
	old := app
	old.Name, old.Project = "platform-before", "default" // as the sidecar sent it
	body, err := json.Marshal(old.Object())
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ar.URL+"/api/v1/applications?upsert=true&validate=false", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+ar.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	now, _, _ := specOf("platform-before")
	t.Logf("before (upsert=true&validate=false): HTTP %d, foreign Application taken over: %v\n  was %s\n  now %s",
		resp.StatusCode, was != now, was, now)

	// After: the fabric's gitops_app_name names a foreign Application.
	foreign(app.Name)
	spec0, rv0, _ := specOf(app.Name)
	err = rest.EnsureApplication(ctx, app)
	require.ErrorIs(t, err, argocd.ErrForeignApplication)
	spec1, rv1, managers := specOf(app.Name)
	require.Equal(t, spec0, spec1, "spec and labels untouched")
	require.NotContains(t, managers, "argocd-server", "argocd-server wrote nothing on our behalf")
	t.Logf("after: %s untouched (spec and labels equal; resourceVersion %s → %s, moved only by Argo CD's controller: managers %v); error: %v",
		app.Name, rv0, rv1, managers, err)

	// The AppProject, then the fabric's own Application in it, reading a
	// directory that holds a VPC and a ConfigMap.
	project := argocd.Project{Name: argocd.DefaultProject, Namespace: ar.Namespace, SourceRepos: []string{argocd.HostPattern(repoURL)},
		Destinations: []argocd.Destination{{Server: ar.ClusterServer, Namespace: "default"}}}
	require.NoError(t, rest.EnsureProject(ctx, project))
	require.NoError(t, rest.EnsureProject(ctx, project))
	proj, err := dyn.Resource(argocd.ProjectGVR).Namespace(ar.Namespace).Get(ctx, argocd.DefaultProject, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, argocd.ManagedBy, proj.GetLabels()[argocd.LabelManagedBy])

	dir := filepath.Join(t.TempDir(), "clone")
	gitenv.Git(t, "", "clone", "-q", srv.AuthURL(repoURL), dir)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "fab", "managed"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fab", "managed", "vpc.yaml"), []byte(`apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata: {name: vpc-guard, namespace: default}
spec: {subnets: {default: {subnet: 10.66.0.0/24, vlan: 1066}}}
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fab", "managed", "smuggled.yaml"), []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: smuggled, namespace: default}
data: {x: "1"}
`), 0o644))
	gitenv.Git(t, dir, "add", "-A")
	gitenv.Git(t, dir, "commit", "-qm", "a VPC and a ConfigMap")
	gitenv.Git(t, dir, "push", "-q", "origin", "HEAD:main")
	commit := gitenv.Git(t, dir, "rev-parse", "HEAD")

	require.NoError(t, rest.EnsureRepository(ctx, ar.Namespace, argocd.Repository{URL: repoURL, Username: srv.User, Password: srv.Password}))
	require.NoError(t, rest.EnsureRepository(ctx, ar.Namespace, argocd.Repository{URL: repoURL, Username: srv.User, Password: srv.Password}),
		"the same settings again: no change, no error")
	mine := app
	mine.Name = argocd.DerivedName(7, "fab")
	require.NoError(t, rest.EnsureApplication(ctx, mine))
	require.NoError(t, rest.EnsureApplication(ctx, mine), "unchanged")
	require.NoError(t, rest.Refresh(ctx, ar.Namespace, mine.Name))
	require.NoError(t, rest.Sync(ctx, ar.Namespace, mine.Name, commit, false))
	var st argocd.Status
	var raw string
	require.Eventually(t, func() bool {
		a, err := apps.Get(ctx, mine.Name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		b, _ := json.Marshal(a.Object["status"])
		raw = string(b)
		st, err = rest.Status(ctx, ar.Namespace, mine.Name)
		return err == nil && st.Finished(commit) || strings.Contains(raw, "not permitted")
	}, 2*time.Minute, 500*time.Millisecond, "the sync never ended")
	require.Contains(t, raw, "ConfigMap")
	require.Contains(t, raw, "not permitted in project "+argocd.DefaultProject)
	cms, err := dyn.Resource(argocd.SecretGVR.GroupVersion().WithResource("configmaps")).Namespace("default").Get(ctx, "smuggled", metav1.GetOptions{})
	require.Error(t, err, "the ConfigMap must not be in the cluster: %v", cms)
	t.Logf("after: the AppProject refused the smuggled ConfigMap (operation %q: %s)", st.Operation, st.Message)
}
