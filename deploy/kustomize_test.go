package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
)

// kustomize is run from the module proxy, pinned, rather than imported
// (sigs.k8s.io/kustomize/api is a heavy dependency for one test). v5.8.3
// needs Go 1.27.
const kustomize = "sigs.k8s.io/kustomize/kustomize/v5@v5.8.2"

// build renders deploy/kustomize/<dir> from a copy of deploy/kustomize in
// which base/secrets.env is made from secrets.env.example, as a user would.
func build(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	tmp := t.TempDir()
	require.NoError(t, os.CopyFS(tmp, os.DirFS("kustomize")))
	ex, err := os.ReadFile(filepath.Join(tmp, "base", "secrets.env.example"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "base", "secrets.env"), ex, 0o600))
	cmd := exec.Command("go", "run", kustomize, "build", filepath.Join(tmp, dir))
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "kustomize build %s: %s", dir, stderr.String())
	objs, err := clusterenv.Decode(out)
	require.NoError(t, err)
	return objs
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// TestKustomizeAndIngressDryRun renders the kustomizations and asks a real
// kube-apiserver to accept every object (server-side dry-run), then applies
// the RBAC and checks with SubjectAccessReviews that the service account may
// do what the code does, and not more.
func TestKustomizeAndIngressDryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs kustomize from the module proxy and a real kube-apiserver; skipped under -short")
	}
	base := build(t, "base")
	withRedis := build(t, "with-redis")
	require.Len(t, withRedis, len(base)+2, "with-redis = base + Redis's Service and StatefulSet")
	for _, o := range base {
		require.NotNil(t, find(withRedis, o.GetKind(), o.GetName()), "%s %s missing from with-redis", o.GetKind(), o.GetName())
	}

	// The hardening the Deployment must keep.
	dep := find(base, "Deployment", "hnp-sidecar")
	require.NotNil(t, dep)
	pod, _, _ := unstructured.NestedMap(dep.Object, "spec", "template", "spec")
	require.Equal(t, "RuntimeDefault", nested(pod, "securityContext", "seccompProfile", "type"))
	require.Equal(t, true, nested(pod, "securityContext", "runAsNonRoot"))
	c := pod["containers"].([]any)[0].(map[string]any)
	require.Equal(t, true, nested(c, "securityContext", "readOnlyRootFilesystem"))
	require.Equal(t, false, nested(c, "securityContext", "allowPrivilegeEscalation"))
	require.Equal(t, []any{"ALL"}, nested(c, "securityContext", "capabilities", "drop"))
	require.Equal(t, "/livez", nested(c, "livenessProbe", "httpGet", "path"))
	require.Equal(t, "/readyz", nested(c, "readinessProbe", "httpGet", "path"))
	require.NotNil(t, c["resources"])
	mounts, _ := c["volumeMounts"].([]any)
	var cfg *unstructured.Unstructured
	for _, o := range base {
		if o.GetKind() == "ConfigMap" {
			cfg = o
		}
	}
	require.NotNil(t, cfg)
	workdir, _, _ := unstructured.NestedString(cfg.Object, "data", "HNP_GIT_WORKDIR")
	mounted := false
	for _, m := range mounts {
		if strings.HasPrefix(workdir+"/", m.(map[string]any)["mountPath"].(string)+"/") {
			mounted = true
		}
	}
	require.True(t, mounted, "HNP_GIT_WORKDIR %s is not on a volume (the root filesystem is read-only)", workdir)

	ingress, err := os.ReadFile("ingress/ingress.yaml")
	require.NoError(t, err)
	ing, err := clusterenv.Decode(ingress)
	require.NoError(t, err)

	cl := clusterenv.StartWith(t, clusterenv.Options{NoHedgehogCRDs: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, ns := range []string{"hnp-sidecar", "argocd", "netbox"} {
		o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
		_, err := cl.ApplyObject(ctx, o, false)
		require.NoError(t, err)
	}
	for _, o := range append(withRedis, ing...) {
		_, err := cl.ApplyObject(ctx, o, true)
		require.NoError(t, err, "%s %s/%s refused", o.GetKind(), o.GetNamespace(), o.GetName())
		t.Logf("dry-run ok: %s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
	}

	// The RBAC for real, then what the service account may do.
	for _, o := range base {
		switch o.GetKind() {
		case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
			_, err := cl.ApplyObject(ctx, o, false)
			require.NoError(t, err)
		}
	}
	dyn, err := cl.Dynamic()
	require.NoError(t, err)
	type access struct {
		verb, group, resource, ns, name, path string
		allowed                               bool
	}
	var checks []access
	for _, v := range []string{"get", "create", "update", "patch"} { // internal/argocd/kube.go, ensure.go
		checks = append(checks, access{verb: v, group: "argoproj.io", resource: "applications", ns: "argocd", allowed: true},
			access{verb: v, resource: "secrets", ns: "argocd", allowed: v != "patch"},
			access{verb: v, group: "argoproj.io", resource: "appprojects", ns: "argocd", name: "hnp-sidecar", allowed: v != "patch"})
	}
	checks = append(checks, access{verb: "update", group: "argoproj.io", resource: "appprojects", ns: "argocd", name: "default"})
	for _, r := range []string{"ipv4namespaces", "vpcs", "externals", "vpcattachments", "vpcpeerings", "externalattachments", "externalpeerings"} {
		checks = append(checks, access{verb: "list", group: "vpc.githedgehog.com", resource: r, allowed: true}, // internal/drift/live.go
			access{verb: "get", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: r + ".vpc.githedgehog.com", allowed: true})
	}
	for _, r := range []string{"vlannamespaces", "switchgroups", "switches", "servers", "connections"} {
		checks = append(checks, access{verb: "list", group: "wiring.githedgehog.com", resource: r, allowed: true},
			access{verb: "get", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: r + ".wiring.githedgehog.com", allowed: true})
	}
	checks = append(checks,
		access{verb: "list", group: "agent.githedgehog.com", resource: "agents", allowed: true}, // internal/drift/agents.go
		access{verb: "get", path: "/readyz", allowed: true},                                     // internal/cluster/resolve.go (Health)
		// Not more.
		access{verb: "delete", group: "argoproj.io", resource: "applications", ns: "argocd"},
		access{verb: "list", resource: "secrets", ns: "argocd"},
		access{verb: "watch", group: "vpc.githedgehog.com", resource: "vpcs"},
		access{verb: "get", group: "wiring.githedgehog.com", resource: "switches", ns: "default"},
		access{verb: "get", resource: "secrets", ns: "kube-system"},
		access{verb: "get", group: "argoproj.io", resource: "applications", ns: "default"},
		access{verb: "create", group: "vpc.githedgehog.com", resource: "vpcs", ns: "default"},
		access{verb: "patch", group: "wiring.githedgehog.com", resource: "switches", ns: "default"},
		access{verb: "get", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "applications.argoproj.io"},
		access{verb: "list", group: "apiextensions.k8s.io", resource: "customresourcedefinitions"},
	)
	sar := dyn.Resource(schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "subjectaccessreviews"})
	for _, a := range checks {
		require.Equal(t, a.allowed, allowed(ctx, t, sar, a.verb, a.group, a.resource, a.ns, a.name, a.path),
			"system:serviceaccount:hnp-sidecar:hnp-sidecar %s %s.%s ns=%q name=%q path=%q", a.verb, a.resource, a.group, a.ns, a.name, a.path)
	}
}

func allowed(ctx context.Context, t *testing.T, sar dynamic.NamespaceableResourceInterface, verb, group, resource, ns, name, path string) bool {
	t.Helper()
	spec := map[string]any{"user": "system:serviceaccount:hnp-sidecar:hnp-sidecar",
		"groups": []any{"system:serviceaccounts", "system:serviceaccounts:hnp-sidecar", "system:authenticated"}}
	if path != "" {
		spec["nonResourceAttributes"] = map[string]any{"verb": verb, "path": path}
	} else {
		spec["resourceAttributes"] = map[string]any{"verb": verb, "group": group, "resource": resource, "namespace": ns, "name": name}
	}
	got, err := sar.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}}, metav1.CreateOptions{})
	require.NoError(t, err)
	ok, _, _ := unstructured.NestedBool(got.Object, "status", "allowed")
	return ok
}

func nested(m map[string]any, path ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(m, path...)
	return v
}
