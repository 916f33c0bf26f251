package install

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// testScope knows a few built-in kinds, as discovery would.
func testScope(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
	known := map[string]bool{ // kind → namespaced
		"ConfigMap": true, "Service": true, "ServiceAccount": true, "Secret": true, "Deployment": true, "StatefulSet": true,
		"Role": true, "RoleBinding": true, "NetworkPolicy": true,
		"ClusterRole": false, "ClusterRoleBinding": false, "Namespace": false,
	}
	ns, ok := known[gvk.Kind]
	if !ok {
		return schema.GroupVersionResource{}, false, &meta.NoKindMatchError{GroupKind: gvk.GroupKind(), SearchedVersions: []string{gvk.Version}}
	}
	return gvk.GroupVersion().WithResource(strings.ToLower(gvk.Kind) + "s"), ns, nil
}

func objects(t *testing.T, yaml string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := decodeManifest([]byte(yaml))
	require.NoError(t, err)
	return objs
}

const appCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: applications.argoproj.io}
spec: {group: argoproj.io, scope: Namespaced, names: {plural: applications, kind: Application}}
`

func TestBuildPlan(t *testing.T) {
	in := objects(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: argocd-server}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: argocd-server, namespace: stray}
subjects:
- {kind: ServiceAccount, name: argocd-server, namespace: argocd}
- {kind: ServiceAccount, name: other, namespace: kube-system}
- {kind: User, name: alice}
---
# an empty document and a comment
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: argocd-cm, namespace: elsewhere}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: argocd-server}}
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: default}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: appprojects.argoproj.io}
spec: {group: argoproj.io, scope: Namespaced, names: {plural: appprojects, kind: AppProject}}
---
`+appCRD+`---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: argocd-application-controller}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: argocd-server}
`)
	for _, tc := range []struct {
		ns       string
		subjects []string
	}{
		{"argocd", []string{"argocd", "kube-system", ""}},
		{"gitops", []string{"gitops", "kube-system", ""}},
	} {
		t.Run(tc.ns, func(t *testing.T) {
			p, err := buildPlan(in, tc.ns, testScope)
			require.NoError(t, err)
			var crds, order []string
			for _, it := range p.crds {
				crds = append(crds, it.String())
			}
			for _, it := range p.objects {
				order = append(order, it.String())
			}
			require.Equal(t, []string{"CustomResourceDefinition appprojects.argoproj.io", "CustomResourceDefinition applications.argoproj.io"}, crds)
			require.Equal(t, []string{
				"ServiceAccount " + tc.ns + "/argocd-server",
				"ConfigMap " + tc.ns + "/argocd-cm",
				"ClusterRole argocd-server",
				"ClusterRoleBinding argocd-server",
				"Deployment " + tc.ns + "/argocd-server",
				"StatefulSet " + tc.ns + "/argocd-application-controller",
				"AppProject " + tc.ns + "/default", // defined by the manifest's own CRD
			}, order)
			require.Equal(t, "Namespace "+tc.ns, p.namespace.String())
			require.Equal(t, schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"}, p.objects[6].gvr)
			require.Equal(t, []string{"Deployment " + tc.ns + "/argocd-server", "StatefulSet " + tc.ns + "/argocd-application-controller"},
				[]string{p.workloads()[0].String(), p.workloads()[1].String()})
			subjects, _, _ := unstructured.NestedSlice(p.objects[3].obj.Object, "subjects")
			var got []string
			for _, s := range subjects {
				ns, _ := s.(map[string]any)["namespace"].(string)
				got = append(got, ns)
			}
			require.Equal(t, tc.subjects, got)
			require.Empty(t, p.objects[3].obj.GetNamespace(), "cluster-scoped objects have no namespace")
		})
	}
	// The input is not changed.
	require.Equal(t, "elsewhere", in[2].GetNamespace())
	require.Empty(t, in[0].GetNamespace())
}

func TestBuildPlanRefuses(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty", "", "no CustomResourceDefinition in it"},
		{"no CRDs", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "no CustomResourceDefinition in it"},
		{"not Argo CD", `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec: {group: example.com, scope: Cluster, names: {plural: widgets, kind: Widget}}
`, "no CustomResourceDefinition applications.argoproj.io"},
		{"CRD without names", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: applications.argoproj.io}\n", "has no spec.group"},
		{"no name", appCRD + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "object 2 has no apiVersion, kind or metadata.name"},
		{"unknown kind", appCRD + "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", "does not serve example.com/v1, Kind=Widget"},
		{"twice", appCRD + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: y}\n",
			"ConfigMap argocd/x is in it twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := buildPlan(objects(t, tc.yaml), "argocd", testScope)
			require.ErrorIs(t, err, ErrBadManifest)
			require.ErrorContains(t, err, tc.want)
		})
	}
	// Discovery failing is not the manifest's fault.
	_, err := buildPlan(objects(t, appCRD+"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), "argocd",
		func(schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
			return schema.GroupVersionResource{}, false, errors.New("connection refused")
		})
	require.ErrorContains(t, err, "connection refused")
	require.NotErrorIs(t, err, ErrBadManifest)
}

func TestDecodeManifest(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		n          int
		err        string
	}{
		{"documents, empty ones and comments", "---\n# c\n---\napiVersion: v1\nkind: A\n---\n\n---\napiVersion: v1\nkind: B\n", 2, ""},
		{"a list", "apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: A}, {apiVersion: v1, kind: B}]\n", 2, ""},
		{"JSON", `{"apiVersion":"v1","kind":"A"}`, 1, ""},
		{"garbage", "kind: [unclosed\n\tx: {{", 0, "document 1"},
		{"a scalar in the second document", "apiVersion: v1\nkind: A\n---\nwords\n", 0, "document 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := decodeManifest([]byte(tc.yaml))
			if tc.err != "" {
				require.ErrorIs(t, err, ErrBadManifest)
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, objs, tc.n)
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestWorkloadReadiness(t *testing.T) {
	dep := func(gen int64, replicas *int32, st appsv1.DeploymentStatus) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: gen}, Spec: appsv1.DeploymentSpec{Replicas: replicas}, Status: st}
	}
	for _, tc := range []struct {
		name  string
		d     *appsv1.Deployment
		ready bool
		why   string
	}{
		{"ready", dep(2, ptrTo[int32](2), appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}), true, ""},
		{"replicas default to 1", dep(1, nil, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}), true, ""},
		{"scaled to zero", dep(1, ptrTo[int32](0), appsv1.DeploymentStatus{ObservedGeneration: 1}), true, ""},
		{"new, no status", dep(1, nil, appsv1.DeploymentStatus{}), false, "generation 1 not yet observed"},
		{"old generation", dep(3, nil, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}), false, "generation 3"},
		{"rolling out", dep(1, ptrTo[int32](3), appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 1, AvailableReplicas: 3}), false, "1 of 3 replicas updated"},
		{"old pods left", dep(1, nil, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 1, AvailableReplicas: 1}), false, "1 old replicas pending termination"},
		{"not available", dep(1, nil, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1}), false, "0 of 1 updated replicas available"},
		{"deadline", dep(1, nil, appsv1.DeploymentStatus{ObservedGeneration: 1, Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet x has timed out progressing."}}}),
			false, "progress deadline exceeded: ReplicaSet x has timed out"},
	} {
		t.Run("Deployment/"+tc.name, func(t *testing.T) {
			ok, why := deploymentReady(tc.d)
			require.Equal(t, tc.ready, ok)
			require.Contains(t, why, tc.why)
		})
	}
	sts := func(gen int64, strategy appsv1.StatefulSetUpdateStrategy, st appsv1.StatefulSetStatus) *appsv1.StatefulSet {
		return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Generation: gen}, Spec: appsv1.StatefulSetSpec{UpdateStrategy: strategy}, Status: st}
	}
	rolling := appsv1.StatefulSetUpdateStrategy{}
	partitioned := appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptrTo[int32](1)}}
	onDelete := appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	for _, tc := range []struct {
		name  string
		s     *appsv1.StatefulSet
		ready bool
		why   string
	}{
		{"ready", sts(1, rolling, appsv1.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 1, UpdatedReplicas: 1, CurrentRevision: "r1", UpdateRevision: "r1"}), true, ""},
		{"new, no status", sts(1, rolling, appsv1.StatefulSetStatus{}), false, "generation 1 not yet observed"},
		{"not ready", sts(1, rolling, appsv1.StatefulSetStatus{ObservedGeneration: 1, UpdatedReplicas: 1}), false, "0 of 1 replicas ready"},
		{"not updated", sts(1, rolling, appsv1.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 1}), false, "0 of 1 replicas updated"},
		{"old revision", sts(1, rolling, appsv1.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 1, UpdatedReplicas: 1, CurrentRevision: "r1", UpdateRevision: "r2"}),
			false, "revision r2 not yet rolled out"},
		{"partitioned: ready is enough", sts(1, partitioned, appsv1.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 1, CurrentRevision: "r1", UpdateRevision: "r2"}), true, ""},
		{"on delete: ready is enough", sts(1, onDelete, appsv1.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 1}), true, ""},
	} {
		t.Run("StatefulSet/"+tc.name, func(t *testing.T) {
			ok, why := statefulSetReady(tc.s)
			require.Equal(t, tc.ready, ok)
			require.Contains(t, why, tc.why)
		})
	}
}

func TestForbiddenError(t *testing.T) {
	err := error(&ForbiddenError{Missing: []Permission{
		{Verb: "create", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
		{Verb: "create", Resource: "namespaces"},
		{Verb: "patch", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
		{Verb: "list", Group: "apps", Resource: "deployments", Namespace: "argocd"},
	}})
	require.ErrorIs(t, err, ErrForbidden)
	require.EqualError(t, err, "argocd install: missing permissions: create, patch customresourcedefinitions.apiextensions.k8s.io; "+
		"create namespaces; list deployments.apps in namespace argocd")
}

func TestOutcome(t *testing.T) {
	require.Equal(t, Created, outcome("", "5"))
	require.Equal(t, Changed, outcome("5", "6"))
	require.Equal(t, Unchanged, outcome("5", "5"))
	var c Counts
	for _, o := range []Outcome{Created, Unchanged, Unchanged, Changed} {
		c.add(o)
	}
	require.Equal(t, Counts{Created: 1, Changed: 1, Unchanged: 2}, c)
	require.Equal(t, 4, c.Total())
}

func TestManifestSource(t *testing.T) {
	require.Equal(t, "https://x:xxxxx@example.com/install.yaml?…", displaySource("https://x:secret@example.com/install.yaml?token=t"))
	require.Equal(t, "/tmp/install.yaml", displaySource("/tmp/install.yaml"))
	require.False(t, unpinned(DefaultManifest))
	require.True(t, unpinned("https://raw.githubusercontent.com/argoproj/argo-cd/stable/manifests/install.yaml"))
	require.False(t, unpinned("/work/main/install.yaml"))

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/install.yaml":
			_, _ = w.Write([]byte(appCRD))
		case "/big.yaml":
			_, _ = w.Write([]byte(strings.Repeat("#", 2000)))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	in, err := New(&rest.Config{Host: "https://127.0.0.1:1"}, Options{MaxManifestBytes: 1000}, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	ctx := context.Background()
	b, err := in.readSource(ctx, srv.URL+"/install.yaml")
	require.NoError(t, err)
	require.Equal(t, appCRD, string(b))
	_, err = in.readSource(ctx, srv.URL+"/nothing.yaml")
	require.ErrorContains(t, err, "HTTP 404 Not Found")
	_, err = in.readSource(ctx, "ftp://example.com/install.yaml")
	require.ErrorContains(t, err, "not an http(s) URL or a file")
	f := filepath.Join(t.TempDir(), "install.yaml")
	require.NoError(t, os.WriteFile(f, []byte(appCRD), 0o600))
	for _, src := range []string{f, "file://" + f} {
		b, err = in.readSource(ctx, src)
		require.NoError(t, err)
		require.Equal(t, appCRD, string(b))
	}
	// Too large: refused before decoding or touching the cluster.
	var res Result
	_, err = in.readManifest(ctx, Request{Source: srv.URL + "/big.yaml"}, &res)
	require.ErrorIs(t, err, ErrBadManifest)
	require.ErrorContains(t, err, "larger than 1000 bytes")
}
