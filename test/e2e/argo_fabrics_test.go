package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	argocdenv "github.com/githedgehog/hnp-sidecar/internal/testenv/argocd"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
)

// Two fabrics, two clusters, one sidecar: fabric "home" leaves its
// cluster empty in NetBox and goes to the sidecar's default (HNP_KUBECONFIG:
// cluster 1 and its Argo CD); fabric "away" names its own cluster 2
// (kubernetes_server, kubernetes_token, kubernetes_ca_cert), whose Argo CD
// the sidecar drives through that cluster's API. Each fabric's VPC becomes
// synced; each Application, AppProject and VPC is in its own cluster only.
// A fabric naming a server outside HNP_CLUSTER_ALLOWED_SERVERS is refused,
// shown on its objects, and nothing of it reaches either cluster.
func TestTwoFabricsTwoClusters(t *testing.T) {
	argocdenv.Skip(t)
	start := time.Now()
	cl1, cl2 := clusterenv.Start(t), clusterenv.Start(t)
	opts := func(cl *clusterenv.Cluster) argocdenv.Options { // each its own Redis, as each its own cluster
		return argocdenv.Options{Config: cl.Config, RedisAddr: redisenv.Start(t).Addr, ConfigMapData: map[string]string{"timeout.reconciliation": "10s"}}
	}
	ar1 := argocdenv.Start(t, opts(cl1))
	argocdenv.Start(t, opts(cl2)) // the Argo CD inside fabric away's cluster
	t.Logf("two API servers and two Argo CDs up in %s", time.Since(start).Round(time.Millisecond))

	env, _, repoURL, sc := reconcileSetup(t, "two-clusters", "HNP_QUEUE_COALESCE_WINDOW", "100ms", "HNP_RECONCILE_INTERVAL", "0",
		"HNP_DRIFT_INTERVAL", "0", "HNP_ARGOCD_NAMESPACE", ar1.Namespace, "HNP_ARGOCD_DESTINATION_SERVER", ar1.ClusterServer,
		"HNP_ARGOCD_SYNC_TIMEOUT", "2m", "HNP_ARGOCD_DRIVER", "kubernetes", "HNP_KUBECONFIG", filepath.Join(ar1.Dir, "kubeconfig"),
		"HNP_CLUSTER_ALLOWED_SERVERS", cl2.URL[len("https://"):])
	sc["HNP_GIT_DEFAULT_URL"] = repoURL
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	admin := adminClient(t, env)

	fabric := func(name string, own map[string]any) map[string]any {
		fields := map[string]any{"name": name, "gitops_tool": "argocd", "git_repository_url": repoURL, "git_branch": "main",
			"gitops_directory": "/" + name + "/"}
		for k, v := range own {
			fields[k] = v
		}
		f, _ := admin.newFabric(t, fields)
		return f
	}
	home := fabric("e2e-home", nil)
	away := fabric("e2e-away", map[string]any{"kubernetes_server": cl2.URL, "kubernetes_token": cl2.Token,
		"kubernetes_ca_cert": string(cl2.CA), "argocd_server_url": "https://argocd.away.example"})
	// Allowed is cl2's host:port only: cluster 1's port is another.
	denied := fabric("e2e-denied", map[string]any{"kubernetes_server": cl1.URL, "kubernetes_token": cl1.Token})

	vpc := func(f map[string]any, name string, n int) {
		admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": f["id"], "name": name,
			"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": fmt.Sprintf("10.77.%d.0/24", n), "vlan": 1700 + n}}}})
	}
	begin := time.Now()
	vpc(home, "vpc-home", 1)
	vpc(away, "vpc-away", 2)
	vpc(denied, "vpc-denied", 3)
	synced := map[string]time.Duration{}
	for fab, name := range map[string]string{"e2e-home": "vpc-home", "e2e-away": "vpc-away"} {
		var st objState
		deadline := time.Now().Add(2 * time.Minute)
		hc := &http.Client{Timeout: 10 * time.Second}
		for st.State != "synced" {
			require.True(t, time.Now().Before(deadline), "%s never synced (now %+v)\n%s", name, st, s.Logs)
			time.Sleep(100 * time.Millisecond)
			req, err := http.NewRequest(http.MethodGet, s.URL+"/api/v1/resources/"+fab+"/VPC/default/"+name, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := hc.Do(req)
			if err != nil {
				t.Logf("state of %s: %v", name, err)
				continue
			}
			if resp.StatusCode == http.StatusOK {
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
			}
			_ = resp.Body.Close()
		}
		synced[fab] = time.Since(begin)
	}
	t.Logf("NetBox save → synced: home (default cluster) %s, away (its own cluster) %s",
		synced["e2e-home"].Round(time.Millisecond), synced["e2e-away"].Round(time.Millisecond))

	dyn1, err := cl1.Dynamic()
	require.NoError(t, err)
	dyn2, err := cl2.Dynamic()
	require.NoError(t, err)
	ctx := context.Background()
	exists := func(dyn dynamic.Interface, gvrName, ns, name string) bool {
		gvr := vpcGVR
		switch gvrName {
		case "application":
			gvr = argocd.ApplicationGVR
		case "appproject":
			gvr = argocd.ProjectGVR
		}
		_, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false
		}
		require.NoError(t, err)
		return true
	}
	homeApp := fmt.Sprintf("hnp-%v-e2e-home", home["id"])
	awayApp := fmt.Sprintf("hnp-%v-e2e-away", away["id"])
	require.True(t, exists(dyn1, "application", "argocd", homeApp))
	require.False(t, exists(dyn2, "application", "argocd", homeApp))
	require.True(t, exists(dyn2, "application", "argocd", awayApp))
	require.False(t, exists(dyn1, "application", "argocd", awayApp))
	require.True(t, exists(dyn1, "appproject", "argocd", "hnp-sidecar"))
	require.True(t, exists(dyn2, "appproject", "argocd", "hnp-sidecar"))
	require.True(t, exists(dyn1, "vpc", "default", "vpc-home"))
	require.False(t, exists(dyn2, "vpc", "default", "vpc-home"))
	require.True(t, exists(dyn2, "vpc", "default", "vpc-away"))
	require.False(t, exists(dyn1, "vpc", "default", "vpc-away"))
	app, err := dyn2.Resource(argocd.ApplicationGVR).Namespace("argocd").Get(ctx, awayApp, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, argocd.InCluster, getPath(app.Object, "spec", "destination", "server"), "the away Argo CD deploys to its own cluster")
	t.Logf("Applications: %s in cluster 1 (%s), %s in cluster 2 (%s); each VPC only in its fabric's cluster",
		homeApp, cl1.URL, awayApp, cl2.URL)

	// The refused fabric: its reason in its journal in NetBox, its VPC
	// committed (in Git), nothing of it in either cluster.
	var journal string
	require.Eventually(t, func() bool {
		journal = journalOf(t, admin, "hedgehogfabric", denied["id"])
		return strings.Contains(journal, "not in HNP_CLUSTER_ALLOWED_SERVERS")
	}, time.Minute, 200*time.Millisecond, "the refused fabric never showed why (journal %q)\n%s", journal, s.Logs)
	var st objState
	sidecarGet(t, s, "/api/v1/resources/e2e-denied/VPC/default/vpc-denied", &st)
	require.Equal(t, "committed", st.State)
	require.NotContains(t, s.Logs.String(), cl1.Token)
	require.NotContains(t, s.Logs.String(), cl2.Token)
	t.Logf("refused fabric's journal: %s", strings.TrimSpace(journal))
	deniedApp := fmt.Sprintf("hnp-%v-e2e-denied", denied["id"])
	require.False(t, exists(dyn1, "application", "argocd", deniedApp))
	require.False(t, exists(dyn2, "application", "argocd", deniedApp))
}
