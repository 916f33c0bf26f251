package install

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	argocdenv "github.com/githedgehog/hnp-sidecar/internal/testenv/argocd"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
)

// recorder keeps the progress an installation reports.
type recorder struct {
	mu   sync.Mutex
	seen []Progress
}

func (r *recorder) add(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, p)
}

func (r *recorder) phases() []Phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Phase
	for _, p := range r.seen {
		if len(out) == 0 || out[len(out)-1] != p.Phase {
			out = append(out, p.Phase)
		}
	}
	return out
}

func (r *recorder) of(ph Phase) []Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Progress
	for _, p := range r.seen {
		if p.Phase == ph && p.Total > 0 {
			out = append(out, p)
		}
	}
	return out
}

// markReady sets the status of every Deployment and StatefulSet in ns as
// their controllers would once the pods run (there is no kubelet), one
// every gap.
func markReady(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string, gap time.Duration) {
	deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, d := range deps.Items {
		r := *d.Spec.Replicas
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: r, UpdatedReplicas: r, ReadyReplicas: r, AvailableReplicas: r}
		_, err := cs.AppsV1().Deployments(ns).UpdateStatus(ctx, &d, metav1.UpdateOptions{})
		require.NoError(t, err)
		time.Sleep(gap)
	}
	sts, err := cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, s := range sts.Items {
		r := *s.Spec.Replicas
		s.Status = appsv1.StatefulSetStatus{ObservedGeneration: s.Generation, Replicas: r, ReadyReplicas: r, AvailableReplicas: r,
			CurrentReplicas: r, UpdatedReplicas: r, CurrentRevision: s.Name + "-1", UpdateRevision: s.Name + "-1"}
		_, err := cs.AppsV1().StatefulSets(ns).UpdateStatus(ctx, &s, metav1.UpdateOptions{})
		require.NoError(t, err)
		time.Sleep(gap)
	}
}

func byKind(r Result) string {
	kinds := make([]string, 0, len(r.ByKind))
	for k := range r.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	for _, k := range kinds {
		c := r.ByKind[k]
		fmt.Fprintf(&b, " %s=%d/%d/%d", k, c.Created, c.Changed, c.Unchanged)
	}
	return b.String()
}

// Argo CD's release manifest against a real kube-apiserver: refused
// manifests and credentials apply nothing; the first run creates every
// object and waits for the workloads (their status set here, as there is
// no kubelet); the second changes nothing; an unready workload times out
// naming it.
func TestInstallAgainstAPIServer(t *testing.T) {
	manifest := argocdenv.InstallManifest(t)
	c := clusterenv.StartWith(t, clusterenv.Options{NoHedgehogCRDs: true})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs, err := kubernetes.NewForConfig(c.Config)
	require.NoError(t, err)
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	reg := prometheus.NewRegistry()
	metrics, err := NewMetrics(reg)
	require.NoError(t, err)
	installer := func(rc *rest.Config) *Installer {
		in, err := New(rc, Options{Poll: 20 * time.Millisecond}, logger, metrics)
		require.NoError(t, err)
		return in
	}
	app := &argocd.App{Name: "hedgehog-fab", Namespace: "argocd", Project: "default", RepoURL: "https://git.example.com/fab.git",
		Revision: "main", Path: "fab/managed", DestServer: argocdenv.InCluster, DestNamespace: "default",
		Automated: true, SelfHeal: true, Fabric: "fab"}
	repo := argocd.Repository{URL: app.RepoURL, Username: "git", Password: "not-a-real-password"}
	nothingApplied := func(t *testing.T) {
		t.Helper()
		_, err := cs.CoreV1().Namespaces().Get(ctx, "argocd", metav1.GetOptions{})
		require.True(t, apierrors.IsNotFound(err), "namespace argocd exists: %v", err)
		crds, err := installer(c.Config).dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		require.Empty(t, crds.Items)
	}

	t.Run("bad manifests apply nothing", func(t *testing.T) {
		onlyCRD, err := os.ReadFile(manifest)
		require.NoError(t, err)
		// The manifest's first document is the Application CRD; an
		// unknown kind after it is found before anything is applied.
		first, _, _ := strings.Cut(string(onlyCRD), "\n---\n")
		for _, tc := range []struct{ name, yaml, want string }{
			{"garbage", "kind: [unclosed\n\tapiVersion: {{", "document 1"},
			{"a scalar", "just some words\n", "document 1"},
			{"no CRDs", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "no CustomResourceDefinition in it"},
			{"no kind", "apiVersion: v1\nmetadata: {name: x}\n", "no apiVersion, kind or metadata.name"},
			{"unknown kind", first + "\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
				"does not serve example.com/v1, Kind=Widget"},
		} {
			_, err := installer(c.Config).Install(ctx, Request{Source: tc.name, Manifest: []byte(tc.yaml)})
			require.ErrorIs(t, err, ErrBadManifest, tc.name)
			require.ErrorContains(t, err, tc.want, tc.name)
			t.Logf("%s: %v", tc.name, err)
		}
		_, err = installer(c.Config).Install(ctx, Request{Source: filepath.Join(t.TempDir(), "missing.yaml")})
		require.ErrorContains(t, err, "no such file")
		nothingApplied(t)
	})

	t.Run("unreachable", func(t *testing.T) {
		rc := rest.CopyConfig(c.Config)
		rc.Host = "https://127.0.0.1:1"
		_, err := installer(rc).Install(ctx, Request{Source: manifest})
		require.ErrorIs(t, err, ErrUnreachable)
		t.Logf("unreachable: %v", err)
	})

	t.Run("missing permissions apply nothing", func(t *testing.T) {
		nobody := rest.CopyConfig(c.Config)
		nobody.Impersonate = rest.ImpersonationConfig{UserName: "nobody"}
		_, err := installer(nobody).Install(ctx, Request{Source: manifest, App: app, Repo: repo})
		require.ErrorIs(t, err, ErrForbidden)
		for _, want := range []string{"get, create, patch customresourcedefinitions.apiextensions.k8s.io", "get, create, patch namespaces",
			"get, create, patch, escalate, bind clusterroles.rbac.authorization.k8s.io",
			"get, create, patch, list deployments.apps in namespace argocd", "get, create, update applications.argoproj.io in namespace argocd"} {
			require.ErrorContains(t, err, want)
		}
		t.Logf("no rights: %.300s…", err)

		// A user who may do everything but create: exactly the creates are missing.
		_, err = cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "all-but-create"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"},
				Verbs: []string{"get", "list", "watch", "patch", "update", "escalate", "bind"}}}}, metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "patcher"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "all-but-create"},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "patcher"}}}, metav1.CreateOptions{})
		require.NoError(t, err)
		patcher := rest.CopyConfig(c.Config)
		patcher.Impersonate = rest.ImpersonationConfig{UserName: "patcher"}
		_, err = installer(patcher).Install(ctx, Request{Source: manifest, App: app, Repo: repo})
		var fe *ForbiddenError
		require.ErrorAs(t, err, &fe)
		require.NotEmpty(t, fe.Missing)
		for _, p := range fe.Missing {
			require.Equal(t, "create", p.Verb, "%+v", p)
		}
		require.True(t, slices.Contains(fe.Missing, Permission{Verb: "create", Group: "apps", Resource: "statefulsets", Namespace: "argocd"}))
		t.Logf("all but create: %d missing: %.200s…", len(fe.Missing), err)
		nothingApplied(t)
	})

	var first, second Result
	t.Run("first run creates everything and waits for the workloads", func(t *testing.T) {
		rec := &recorder{}
		done := make(chan struct{})
		go func() { // the workloads become ready one by one once the installer waits for them
			defer close(done)
			for len(rec.of(PhaseWorkloads)) == 0 && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			markReady(ctx, t, cs, "argocd", 50*time.Millisecond)
		}()
		start := time.Now()
		res, err := installer(c.Config).Install(ctx, Request{Source: manifest, App: app, Repo: repo, Wait: time.Minute, Progress: rec.add})
		<-done
		require.NoError(t, err)
		first = res
		t.Logf("first run against %s (%s): %d objects: %d created, %d changed, %d unchanged in %s (kind=created/changed/unchanged:%s); phases %v",
			res.ServerVersion, res.Source, res.Total(), res.Created, res.Changed, res.Unchanged, time.Since(start).Round(time.Millisecond), byKind(res), res.Took)
		require.Equal(t, res.Total(), res.Created)
		require.Equal(t, 3, res.CRDs)
		require.Equal(t, 7, res.Workloads)
		require.Equal(t, []Phase{PhaseManifest, PhasePrerequisites, PhaseCRDs, PhaseObjects, PhaseWorkloads, PhaseApplication}, rec.phases())
		waits := rec.of(PhaseWorkloads)
		require.Equal(t, Progress{Phase: PhaseWorkloads, Done: 0, Total: 7}, waits[0])
		require.Equal(t, Progress{Phase: PhaseWorkloads, Done: 7, Total: 7}, waits[len(waits)-1])
		require.Greater(t, len(waits), 2, "progress while workloads become ready: %v", waits)

		for _, name := range []string{"applications.argoproj.io", "applicationsets.argoproj.io", "appprojects.argoproj.io"} {
			u, err := installer(c.Config).dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			require.NoError(t, err)
			ok, _ := crdEstablished(u)
			require.True(t, ok, name)
		}
		// Every namespaced object is in argocd; the Application and its repository Secret too.
		sas, err := cs.CoreV1().ServiceAccounts("argocd").List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(sas.Items), 7)
		sec, err := cs.CoreV1().Secrets("argocd").Get(ctx, argocd.RepositorySecretName(repo.URL), metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, "repository", sec.Labels["argocd.argoproj.io/secret-type"])
		got, err := installer(c.Config).dyn.Resource(argocd.ApplicationGVR).Namespace("argocd").Get(ctx, app.Name, metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, "fab/managed", fmt.Sprint(got.Object["spec"].(map[string]any)["source"].(map[string]any)["path"]))
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		require.NotZero(t, first.Total(), "needs the first run")
		start := time.Now()
		res, err := installer(c.Config).Install(ctx, Request{Source: manifest, App: app, Repo: repo, Wait: time.Minute})
		require.NoError(t, err)
		second = res
		t.Logf("second run: %d objects: %d created, %d changed, %d unchanged in %s; phases %v",
			res.Total(), res.Created, res.Changed, res.Unchanged, time.Since(start).Round(time.Millisecond), res.Took)
		require.Equal(t, Counts{Unchanged: first.Total()}, res.Counts)
	})

	t.Run("an unready workload times out naming it", func(t *testing.T) {
		require.NotZero(t, second.Total(), "needs the second run")
		d, err := cs.AppsV1().Deployments("argocd").Get(ctx, "argocd-server", metav1.GetOptions{})
		require.NoError(t, err)
		d.Status.AvailableReplicas, d.Status.ReadyReplicas = 0, 0
		_, err = cs.AppsV1().Deployments("argocd").UpdateStatus(ctx, d, metav1.UpdateOptions{})
		require.NoError(t, err)
		rec := &recorder{}
		res, err := installer(c.Config).Install(ctx, Request{Source: manifest, App: app, Repo: repo, Wait: 300 * time.Millisecond, Progress: rec.add})
		require.ErrorIs(t, err, ErrNotReady)
		require.ErrorContains(t, err, "1 of 7: Deployment argocd/argocd-server: 0 of 1 updated replicas available")
		t.Logf("timeout: %v", err)
		require.Zero(t, res.Created+res.Changed)
		waits := rec.of(PhaseWorkloads)
		require.Equal(t, Progress{Phase: PhaseWorkloads, Done: 6, Total: 7}, waits[len(waits)-1])
		require.NotContains(t, rec.phases(), PhaseApplication)
	})

	require.Equal(t, 2.0, testutil.ToFloat64(metrics.runs.WithLabelValues("succeeded")))
	require.Equal(t, 2.0, testutil.ToFloat64(metrics.runs.WithLabelValues("forbidden")))
	require.Equal(t, 1.0, testutil.ToFloat64(metrics.runs.WithLabelValues("not_ready")))
	require.Equal(t, float64(first.Total()), testutil.ToFloat64(metrics.objects.WithLabelValues("created")))
	require.Zero(t, testutil.ToFloat64(metrics.objects.WithLabelValues("changed")))
	_, err = NewMetrics(reg)
	require.Error(t, err, "the metrics are built once, at start-up")
}
