package argocd_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
)

// argoCRDs are Argo CD's Application and AppProject CRDs, next to the
// Hedgehog ones in ../shared/upstream.
func argoCRDs(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range []string{"application-crd.yaml", "appproject-crd.yaml"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(clusterenv.HedgehogCRDDir()), "argocd", f))
		if err != nil {
			t.Skipf("Argo CD CRDs not found: %v", err)
		}
		out = append(out, b)
	}
	return append(out, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: argocd}\n"))
}

func foreignApp(name, repo string, labels map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": name, "namespace": "argocd", "labels": labels},
		"spec": map[string]any{"project": "default",
			"source":      map[string]any{"repoURL": repo, "targetRevision": "main", "path": "platform"},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "kube-system"}},
	}}
}

func specAndVersion(t *testing.T, dyn dynamic.Interface, name string) (string, string) {
	t.Helper()
	got, err := dyn.Resource(argocd.ApplicationGVR).Namespace("argocd").Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	b, err := json.Marshal(got.Object["spec"])
	require.NoError(t, err)
	return string(b), got.GetResourceVersion()
}

func fabricApp(name string, id int64) argocd.App {
	return argocd.App{Name: name, Namespace: "argocd", Project: argocd.DefaultProject, RepoURL: "https://attacker.example/evil.git",
		Revision: "main", Path: "fab/managed", DestServer: "https://kubernetes.default.svc", DestNamespace: "default",
		Automated: true, Prune: true, Fabric: "fab", FabricID: id}
}

// The attack: a NetBox user names another team's Application (or lets the
// sidecar derive a name someone squatted). Before, the Kubernetes driver
// force-applied over it (new source, destination, prune); now it is left
// byte for byte as it was and the error says whose it is.
func TestKubeDriverLeavesForeignObjectsAlone(t *testing.T) {
	c := clusterenv.StartWith(t, clusterenv.Options{NoHedgehogCRDs: true, Manifests: argoCRDs(t)})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dyn, err := c.Dynamic()
	require.NoError(t, err)
	apps := dyn.Resource(argocd.ApplicationGVR).Namespace("argocd")
	k := argocd.NewKube(dyn)

	// Before: what the driver did until now (server-side apply, Force).
	_, err = apps.Create(ctx, foreignApp("platform-before", "https://git.example.com/platform.git", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	before, _ := specAndVersion(t, dyn, "platform-before")
	body, err := json.Marshal(fabricApp("platform-before", 7).Object())
	require.NoError(t, err)
	force := true
	_, err = apps.Patch(ctx, "platform-before", types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "hnp-sidecar", Force: &force})
	require.NoError(t, err)
	after, _ := specAndVersion(t, dyn, "platform-before")
	require.NotEqual(t, before, after)
	t.Logf("before (Force apply): foreign Application taken over:\n  was %s\n  now %s", before, after)

	// After: a foreign Application of the fabric's name (gitops_app_name,
	// or squatting the derived one), and one that is another fabric's.
	for name, labels := range map[string]map[string]any{
		"platform":                   nil,
		argocd.DerivedName(7, "fab"): {argocd.LabelManagedBy: "someone-else"},
		"hnp-8-other":                {argocd.LabelManagedBy: argocd.ManagedBy, argocd.LabelFabricID: "8"},
	} {
		_, err := apps.Create(ctx, foreignApp(name, "https://git.example.com/platform.git", labels), metav1.CreateOptions{})
		require.NoError(t, err)
		spec0, rv0 := specAndVersion(t, dyn, name)
		err = k.EnsureApplication(ctx, fabricApp(name, 7))
		require.ErrorIs(t, err, argocd.ErrForeignApplication, name)
		spec1, rv1 := specAndVersion(t, dyn, name)
		require.Equal(t, spec0, spec1, name)
		require.Equal(t, rv0, rv1, name)
		t.Logf("after: %s untouched (resourceVersion %s); error: %v", name, rv1, err)
	}

	// Ours: created with the labels, unchanged when nothing changed,
	// updated (conditionally) when something did.
	mine := fabricApp("hnp-9-mine", 9)
	require.NoError(t, k.EnsureApplication(ctx, mine))
	_, rv0 := specAndVersion(t, dyn, "hnp-9-mine")
	require.NoError(t, k.EnsureApplication(ctx, mine))
	_, rv1 := specAndVersion(t, dyn, "hnp-9-mine")
	require.Equal(t, rv0, rv1, "nothing changed: no write")
	mine.Revision = "release"
	require.NoError(t, k.EnsureApplication(ctx, mine))
	got, err := apps.Get(ctx, "hnp-9-mine", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "release", got.Object["spec"].(map[string]any)["source"].(map[string]any)["targetRevision"])
	require.Equal(t, "9", got.GetLabels()[argocd.LabelFabricID])
	require.Equal(t, argocd.ManagedBy, got.GetLabels()[argocd.LabelManagedBy])

	// Repository Secret: a foreign one of the name is not overwritten.
	secrets := dyn.Resource(argocd.SecretGVR).Namespace("argocd")
	url := "https://git.example.com/fab.git"
	name := argocd.RepositorySecretName(url)
	_, err = secrets.Create(ctx, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": name, "namespace": "argocd"}, "stringData": map[string]any{"url": url, "password": "theirs"}}},
		metav1.CreateOptions{})
	require.NoError(t, err)
	s0, err := secrets.Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	err = k.EnsureRepository(ctx, "argocd", argocd.Repository{URL: url, Username: "bot", Password: "ours"})
	require.ErrorIs(t, err, argocd.ErrForeignRepository)
	require.NotContains(t, err.Error(), "ours")
	s1, err := secrets.Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, s0.GetResourceVersion(), s1.GetResourceVersion())
	require.Equal(t, s0.Object["data"], s1.Object["data"])
	// Ours: created, then updated when the credentials change.
	url2 := "https://git.example.com/fab2.git"
	require.NoError(t, k.EnsureRepository(ctx, "argocd", argocd.Repository{URL: url2, Username: "bot", Password: "one"}))
	require.NoError(t, k.EnsureRepository(ctx, "argocd", argocd.Repository{URL: url2, Username: "bot", Password: "two"}))
	s2, err := secrets.Get(ctx, argocd.RepositorySecretName(url2), metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "dHdv", s2.Object["data"].(map[string]any)["password"]) // "two"
	require.Equal(t, "repository", s2.GetLabels()["argocd.argoproj.io/secret-type"])

	// The AppProject: created with Hedgehog kinds only and no
	// cluster-scoped kinds; a foreign one of the name is not taken over.
	p := argocd.Project{Name: argocd.DefaultProject, Namespace: "argocd", SourceRepos: []string{"https://git.example.com/**"},
		Destinations: []argocd.Destination{{Server: "https://kubernetes.default.svc", Namespace: "default"}}}
	require.NoError(t, k.EnsureProject(ctx, p))
	projects := dyn.Resource(argocd.ProjectGVR).Namespace("argocd")
	proj, err := projects.Get(ctx, argocd.DefaultProject, metav1.GetOptions{})
	require.NoError(t, err)
	spec := proj.Object["spec"].(map[string]any)
	require.Equal(t, []any{"https://git.example.com/**"}, spec["sourceRepos"])
	require.Empty(t, spec["clusterResourceWhitelist"])
	var groups []string
	for _, g := range spec["namespaceResourceWhitelist"].([]any) {
		groups = append(groups, g.(map[string]any)["group"].(string))
	}
	require.Equal(t, argocd.HedgehogGroups, groups)
	rv := proj.GetResourceVersion()
	require.NoError(t, k.EnsureProject(ctx, p))
	proj, err = projects.Get(ctx, argocd.DefaultProject, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, rv, proj.GetResourceVersion(), "unchanged: no write")

	_, err = projects.Create(ctx, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
		"metadata": map[string]any{"name": "platform", "namespace": "argocd"},
		"spec":     map[string]any{"sourceRepos": []any{"*"}}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	p.Name = "platform"
	err = k.EnsureProject(ctx, p)
	require.ErrorIs(t, err, argocd.ErrForeignProject)
	proj, err = projects.Get(ctx, "platform", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, []any{"*"}, proj.Object["spec"].(map[string]any)["sourceRepos"])
	_, err = projects.Get(ctx, "nothing", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err))
}
