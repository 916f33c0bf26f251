// Package chart tests the Helm chart charts/hnp-sidecar against a real
// kube-apiserver: every object of every value set is accepted by a
// server-side dry-run, and the chart's RBAC is exactly what the code needs
// (the Argo CD driver, drift and the Argo CD installation run under the
// chart's ServiceAccounts, by impersonation).
//
// The chart is rendered and linted by charts/hnp-sidecar/test, a module of
// its own on Helm's Go packages, so that this module does not depend on Helm.
package chart

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/argocd/install"
	"github.com/githedgehog/hnp-sidecar/internal/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/drift"
	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/state"
	argocdenv "github.com/githedgehog/hnp-sidecar/internal/testenv/argocd"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
)

// serviceMonitorCRD stands in for prometheus-operator's CRD, which the API
// server does not have: enough for a dry-run of the chart's ServiceMonitor.
const serviceMonitorCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: servicemonitors.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// render runs the chart's renderer and returns each value set's objects.
func render(t *testing.T) map[string][]*unstructured.Unstructured {
	t.Helper()
	dir := filepath.Join(clusterenv.RepoRoot(), "charts", "hnp-sidecar", "test")
	out := t.TempDir()
	cmd := exec.Command("go", "run", ".", "-out", out)
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "rendering the chart (%s): %s", dir, b)
	t.Logf("%s", strings.TrimSpace(string(b)))
	files, err := filepath.Glob(filepath.Join(out, "*.yaml"))
	require.NoError(t, err)
	sets := map[string][]*unstructured.Unstructured{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		objs, err := clusterenv.Decode(data)
		require.NoError(t, err, f)
		sets[strings.TrimSuffix(filepath.Base(f), ".yaml")] = objs
	}
	require.GreaterOrEqual(t, len(sets), 3, "value sets")
	return sets
}

// TestChart renders the chart for every value set and has the API server
// accept every object (server-side dry-run), then checks its RBAC.
func TestChart(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real kube-apiserver; skipped under -short")
	}
	sets := render(t)
	c := clusterenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ap, err := clusterenv.NewApplier(c.Config)
	require.NoError(t, err)

	// The namespaces the objects name (the releases' and Argo CD's) must
	// exist for their dry-run.
	nss := map[string]bool{}
	for _, objs := range sets {
		for _, o := range objs {
			if ns := o.GetNamespace(); ns != "" {
				nss[ns] = true
			}
		}
	}
	var ns strings.Builder
	for n := range nss {
		fmt.Fprintf(&ns, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", n)
	}
	require.NoError(t, ap.Apply(ctx, []byte(serviceMonitorCRD), []byte(ns.String())))

	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		kinds := map[string]int{}
		for _, o := range sets[name] {
			_, err := ap.ApplyObject(ctx, o, true)
			require.NoError(t, err, "value set %s: %s %s/%s", name, o.GetKind(), o.GetNamespace(), o.GetName())
			kinds[o.GetKind()]++
		}
		var ks []string
		for k, n := range kinds {
			ks = append(ks, fmt.Sprintf("%s %d", k, n))
		}
		sort.Strings(ks)
		t.Logf("value set %s: the API server accepted all %d objects (server-side dry-run): %s", name, len(sets[name]), strings.Join(ks, ", "))
	}
	// What the sets are for is in them.
	has := func(set, kind, name string) bool {
		return slices.ContainsFunc(sets[set], func(o *unstructured.Unstructured) bool {
			return o.GetKind() == kind && (name == "" || o.GetName() == name)
		})
	}
	for _, k := range []string{"ServiceMonitor", "PodDisruptionBudget", "PersistentVolumeClaim", "StatefulSet", "NetworkPolicy"} {
		require.True(t, has("full", k, ""), "full has a %s", k)
	}
	require.True(t, has("full", "ClusterRole", "hnp-full-hnp-sidecar-argocd-install"))
	require.False(t, has("defaults", "ClusterRoleBinding", "hnp-sidecar-argocd-install"), "Argo CD installation is off by default")
	require.False(t, has("defaults", "StatefulSet", ""), "the bundled Redis is off by default")
	require.False(t, has("rest", "Role", "") || has("rest", "ClusterRole", ""), "rbac.create=false")
	// The bundled Redis wants a password and caps its memory without
	// evicting queued work; the sidecar connects with that password, which
	// the chart's Secret generates (cluster-admin) or the user's has (full).
	seen := map[string]int{}
	for _, o := range append(slices.Clone(sets["full"]), sets["cluster-admin"]...) {
		seen[o.GetKind()]++
		switch o.GetKind() {
		case "StatefulSet":
			c, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			args := fmt.Sprint(c[0].(map[string]any)["args"])
			for _, want := range []string{"--requirepass $(REDIS_PASSWORD)", "--maxmemory 200mb", "--maxmemory-policy noeviction"} {
				require.Contains(t, args, want)
			}
		case "Deployment":
			c, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			require.Contains(t, fmt.Sprint(c[0].(map[string]any)["env"]), "redis://:$(REDIS_PASSWORD)@")
		case "Secret":
			_, ok, _ := unstructured.NestedString(o.Object, "data", "redis-password")
			require.True(t, ok, "the chart's Secret has a generated redis-password")
		}
	}
	require.Equal(t, map[string]int{"StatefulSet": 2, "Deployment": 2, "Secret": 1}, map[string]int{
		"StatefulSet": seen["StatefulSet"], "Deployment": seen["Deployment"], "Secret": seen["Secret"]})

	scalingOut(t, sets)
	trust(t, sets)

	t.Run("rbac", func(t *testing.T) { testRBAC(t, ctx, c, ap, sets) })
}

// account applies a value set's ServiceAccount and RBAC objects for real
// and returns a config that acts as that ServiceAccount.
func account(t *testing.T, ctx context.Context, c *clusterenv.Cluster, ap *clusterenv.Applier, objs []*unstructured.Unstructured) *rest.Config {
	t.Helper()
	var sa *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "ServiceAccount" {
			sa = o
		}
		if o.GetKind() == "ServiceAccount" || strings.HasPrefix(o.GetAPIVersion(), "rbac.authorization.k8s.io/") {
			_, err := ap.ApplyObject(ctx, o, false)
			require.NoError(t, err)
		}
	}
	require.NotNil(t, sa, "a ServiceAccount")
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + sa.GetNamespace() + ":" + sa.GetName(),
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + sa.GetNamespace(), "system:authenticated"},
	}
	return cfg
}

func testRBAC(t *testing.T, ctx context.Context, c *clusterenv.Cluster, ap *clusterenv.Applier, sets map[string][]*unstructured.Unstructured) {
	manifest := argocdenv.InstallManifest(t)
	defaults := account(t, ctx, c, ap, sets["defaults"])
	full := account(t, ctx, c, ap, sets["full"])
	logger := slog.New(slog.DiscardHandler)
	installer := func(rc *rest.Config) *install.Installer {
		in, err := install.New(rc, install.Options{Namespace: "argocd", Poll: 200 * time.Millisecond}, logger, nil)
		require.NoError(t, err)
		return in
	}

	// internal/argocd/install: the default account may not install
	// Argo CD (and the access check applies nothing); the full set's
	// (argocdInstall.enabled) passes the check and applies every object;
	// only the wait fails, since this API server runs no controllers.
	_, err := installer(defaults).Install(ctx, install.Request{Source: manifest, Wait: time.Second})
	require.ErrorIs(t, err, install.ErrForbidden)
	t.Logf("argocd install as the defaults account: %.200s…", err)
	res, err := installer(full).Install(ctx, install.Request{Source: manifest, Wait: time.Second})
	require.ErrorIs(t, err, install.ErrNotReady, "only the wait may fail")
	require.Positive(t, res.Created)
	t.Logf("argocd install as the full set's account (argocdInstall.enabled): access check passed, %d objects created (%d CRDs), then %v", res.Created, res.CRDs, err)

	// internal/argocd/kube.go as the defaults account: repository Secret and
	// Application (server-side apply, creating then changing), refresh,
	// sync, status; nothing outside the Argo CD namespace, no reading Secrets.
	dyn, err := dynamic.NewForConfig(defaults)
	require.NoError(t, err)
	k := argocd.NewKube(dyn)
	app := argocd.App{Name: "hnp-1-f1", Namespace: "argocd", Project: argocd.DefaultProject, RepoURL: "https://git.example.com/f1.git",
		Revision: "main", Path: "f1/managed", DestServer: "https://kubernetes.default.svc", DestNamespace: "default",
		Automated: true, Prune: true, SelfHeal: true, Fabric: "f1", FabricID: 1}
	repo := argocd.Repository{URL: app.RepoURL, Username: "git", Password: "secret"}
	project := argocd.Project{Name: argocd.DefaultProject, Namespace: "argocd", SourceRepos: []string{"https://git.example.com/**"},
		Destinations: []argocd.Destination{{Server: app.DestServer, Namespace: "default"}}}
	for i := range 2 { // create, then change
		require.NoError(t, k.EnsureProject(ctx, project))
		require.NoError(t, k.EnsureRepository(ctx, "argocd", repo))
		require.NoError(t, k.EnsureApplication(ctx, app))
		app.Revision, repo.Password = fmt.Sprint("release-", i), fmt.Sprint("secret-", i)
		project.SourceRepos = append(project.SourceRepos, fmt.Sprintf("https://git%d.example.com/**", i))
	}
	other := project
	other.Name = "another-project" // get and update only of the configured AppProject
	require.True(t, isForbidden(k.EnsureProject(ctx, other)))
	require.NoError(t, k.Refresh(ctx, "argocd", app.Name))
	require.NoError(t, k.Sync(ctx, "argocd", app.Name, "0123456789abcdef0123456789abcdef01234567", true))
	_, err = k.Status(ctx, "argocd", app.Name)
	require.NoError(t, err)
	elsewhere := app
	elsewhere.Namespace = "default"
	require.True(t, isForbidden(k.EnsureApplication(ctx, elsewhere)))
	require.True(t, isForbidden(k.EnsureRepository(ctx, "default", repo)))
	_, err = dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}).Namespace("argocd").List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "the account cannot read Secrets: %v", err)
	t.Log("Kubernetes driver as the defaults account: AppProject, repository Secret and Application created then updated, refresh, sync, status; another AppProject, namespace default and listing Secrets forbidden")

	// internal/drift as the defaults account: a real drift check, and the
	// CRD reads it ignores when they fail; /readyz (cluster.Health).
	d, err := drift.New(desired{}, states{}, cluster.NewClusters(defaults, nil), drift.Options{}, nil, logger, prometheus.NewRegistry())
	require.NoError(t, err)
	rep, err := d.Check(ctx, 1)
	require.NoError(t, err)
	require.True(t, rep.Agents.Installed, "the Agent list was allowed")
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, kd := range kind.CRs() {
		gv, _ := schema.ParseGroupVersion(kd.APIVersion)
		_, err := crds.Get(ctx, kd.Plural+"."+gv.Group, metav1.GetOptions{})
		require.NoError(t, err, kd.Name)
	}
	_, err = crds.Get(ctx, "applications.argoproj.io", metav1.GetOptions{})
	require.True(t, apierrors.IsForbidden(err), "only the Hedgehog kinds' CRDs: %v", err)
	cs, err := kubernetes.NewForConfig(defaults)
	require.NoError(t, err)
	_, err = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	require.NoError(t, err)
	t.Logf("drift as the defaults account: check of fabric 1 ok (%d live, agents installed), %d CRDs read, other CRDs forbidden; /readyz ok", rep.Live, len(kind.CRs()))

	// Without the chart's RBAC (rbac.create=false) drift is refused: the
	// rules above are what grants it.
	none := account(t, ctx, c, ap, sets["rest"])
	d, err = drift.New(desired{}, states{}, cluster.NewClusters(none, nil), drift.Options{}, nil, logger, prometheus.NewRegistry())
	require.NoError(t, err)
	_, err = d.Check(ctx, 1)
	require.Error(t, err)
	require.Contains(t, err.Error(), "forbidden")
}

func isForbidden(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if apierrors.IsForbidden(e) {
			return true
		}
	}
	return false
}

// desired is a fabric with nothing in Git.
type desired struct{}

func (desired) Committed(context.Context, int64) (netbox.Fabric, string, map[string][]byte, error) {
	return netbox.Fabric{ID: 1, Name: "f1"}, "0123456789abcdef0123456789abcdef01234567", map[string][]byte{}, nil
}

// states is an empty state store.
type states struct{}

func (states) Load(context.Context, int64) (map[string]state.Record, error) {
	return map[string]state.Record{}, nil
}
func (states) Apply(context.Context, ...state.Change) []error { return nil }
func (states) Fabrics(context.Context) (map[int64]string, error) {
	return map[int64]string{1: "f1"}, nil
}
