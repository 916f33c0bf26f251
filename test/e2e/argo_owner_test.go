package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
)

// The Argo CD attack through NetBox, the sidecar and a real API server
// (Kubernetes driver; no Argo CD needed, so no network namespace): a
// NetBox user points a fabric's gitops_app_name at another team's
// Application. Its commit reaches Git, the foreign Application is left as
// it was, and the fabric's journal and /api/v1/health say why. A name
// outside HNP_ARGOCD_APP_NAME_PATTERN is refused before Argo CD is asked.
func TestForeignApplicationUntouchedThroughNetBox(t *testing.T) {
	cl, kubeconfig := argoCRDCluster(t)
	ctx := context.Background()
	dyn, err := cl.Dynamic()
	require.NoError(t, err)
	apps := dyn.Resource(argocd.ApplicationGVR).Namespace("argocd")
	_, err = apps.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "hedgehog-victim", "namespace": "argocd"},
		"spec": map[string]any{"project": "default",
			"source":      map[string]any{"repoURL": "https://git.example.com/platform.git", "targetRevision": "main", "path": "platform"},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "kube-system"}},
	}}, metav1.CreateOptions{})
	require.NoError(t, err)
	victim := func() (string, string) {
		a, err := apps.Get(ctx, "hedgehog-victim", metav1.GetOptions{})
		require.NoError(t, err)
		b, _ := json.Marshal(map[string]any{"spec": a.Object["spec"], "labels": a.GetLabels()})
		return string(b), a.GetResourceVersion()
	}
	spec0, rv0 := victim()

	env, srv, repoURL, sc := reconcileSetup(t, "argo-owner", "HNP_QUEUE_COALESCE_WINDOW", "100ms", "HNP_RECONCILE_INTERVAL", "0",
		"HNP_DRIFT_INTERVAL", "0", "HNP_ARGOCD_DRIVER", "kubernetes", "HNP_KUBECONFIG", kubeconfig)
	sc["HNP_GIT_DEFAULT_URL"] = repoURL
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	admin := adminClient(t, env)

	for _, tc := range []struct{ fabric, vpc, appName, journal string }{
		{"e2e-owner-a", "vpc-oa", "hedgehog-victim", "argocd/hedgehog-victim has no labels app.kubernetes.io/managed-by=hnp-sidecar"},
		{"e2e-owner-b", "vpc-ob", "argocd-server", `gitops_app_name "argocd-server" does not match the allowed pattern`},
	} {
		fab, _ := admin.newFabric(t, map[string]any{"name": tc.fabric, "gitops_tool": "argocd", "git_repository_url": repoURL,
			"git_branch": "main", "gitops_directory": "/" + tc.fabric + "/", "gitops_app_name": tc.appName})
		admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": fab["id"], "name": tc.vpc,
			"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.55.0.0/24", "vlan": 1555}}}})
		var journal string
		require.Eventually(t, func() bool {
			journal = journalOf(t, admin, "hedgehogfabric", fab["id"])
			return strings.Contains(journal, tc.journal)
		}, 90*time.Second, 200*time.Millisecond, "%s: the refusal never reached the fabric's journal:\n%s\n%s", tc.fabric, journal, s.Logs)
		require.NotEmpty(t, remoteFile(t, srv, "argo-owner", tc.fabric+"/managed/vpcs/"+tc.vpc+".yaml"), "the commit is in Git")
		_, comps := healthOf(t, s)
		require.Contains(t, string(comps["fabrics"]), tc.fabric)
		t.Logf("%s (gitops_app_name %q): in Git; journal: %s", tc.fabric, tc.appName, lastLine(journal, tc.journal))
	}
	spec1, rv1 := victim()
	require.Equal(t, spec0, spec1)
	require.Equal(t, rv0, rv1)
	list, err := apps.List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	var names []string
	for _, a := range list.Items {
		names = append(names, a.GetName())
	}
	require.Equal(t, []string{"hedgehog-victim"}, names, "no Application was created for either fabric")
	t.Logf("hedgehog-victim untouched (resourceVersion %s → %s, spec and labels equal); Applications: %v", rv0, rv1, names)
}

// lastLine is the journal line holding s.
func lastLine(journal, s string) string {
	for _, l := range strings.Split(journal, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return fmt.Sprintf("(no line with %q)", s)
}

// argoCRDCluster is a real API server with Argo CD's CRDs and namespace
// (no Argo CD: a test plays its part) and a kubeconfig for it.
func argoCRDCluster(t *testing.T) (*clusterenv.Cluster, string) {
	t.Helper()
	var crds [][]byte
	for _, f := range []string{"application-crd.yaml", "appproject-crd.yaml"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(clusterenv.HedgehogCRDDir()), "argocd", f))
		if err != nil {
			t.Skipf("Argo CD CRDs not found: %v", err)
		}
		crds = append(crds, b)
	}
	cl := clusterenv.StartWith(t, clusterenv.Options{Manifests: append(crds, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: argocd}\n"))})
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: cl.URL, CertificateAuthority: cl.CAFile}
	kc.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: cl.Token}
	kc.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	kc.CurrentContext = "c"
	require.NoError(t, clientcmd.WriteToFile(*kc, kubeconfig))
	return cl, kubeconfig
}
