package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/githedgehog/hnp-sidecar/internal/argocdtest"
	"github.com/githedgehog/hnp-sidecar/internal/clustertest"
	"github.com/githedgehog/hnp-sidecar/internal/redistest"
)

var vpcGVR = schema.GroupVersionResource{Group: "vpc.githedgehog.com", Version: "v1beta1", Resource: "vpcs"}

// The plan's scenario 3, through real parts only: NetBox → webhook →
// sidecar → Git → Argo CD → kube-apiserver, with both drivers (Argo CD's
// REST API, and the Application resource through the Kubernetes API). A
// VPC saved in NetBox becomes synced, exists in the API server with its
// spec, and NetBox shows it; an edit is a new commit, pending, then synced
// at the new SHA; a VPC that the CRD schema refuses (and the sidecar's own
// validation cannot know) becomes drifted with the API server's reason
// while the others stay synced. Runs only inside a private network
// namespace (make test does that: see test/cluster/in-netns.sh).
func TestScenario3NetBoxToArgoCD(t *testing.T) {
	argocdtest.Skip(t)
	start := time.Now()
	cl := clustertest.Start(t)
	ar := argocdtest.Start(t, argocdtest.Options{Config: cl.Config, RedisAddr: redistest.Start(t).Addr,
		ConfigMapData: map[string]string{"timeout.reconciliation": "10s"}})
	t.Logf("API server and Argo CD up in %s (API server %s, Argo CD %s)", time.Since(start).Round(time.Millisecond),
		cl.Started.Round(time.Millisecond), ar.Started.Round(time.Millisecond))
	dyn, err := cl.Dynamic()
	require.NoError(t, err)

	for _, driver := range []string{"rest", "kubernetes"} {
		t.Run(driver, func(t *testing.T) {
			extra := []string{"HNP_QUEUE_COALESCE_WINDOW", "100ms", "HNP_RECONCILE_INTERVAL", "0", "HNP_DRIFT_INTERVAL", "0",
				"HNP_ARGOCD_NAMESPACE", ar.Namespace, "HNP_ARGOCD_DESTINATION_SERVER", ar.ClusterServer, "HNP_ARGOCD_SYNC_TIMEOUT", "2m"}
			if driver == "rest" {
				// The kubeconfig is for drift detection only.
				extra = append(extra, "HNP_ARGOCD_DRIVER", "rest", "HNP_ARGOCD_URL", ar.URL, "HNP_ARGOCD_TOKEN", ar.Token,
					"HNP_KUBECONFIG", filepath.Join(ar.Dir, "kubeconfig"))
			} else {
				extra = append(extra, "HNP_ARGOCD_DRIVER", "kubernetes", "HNP_KUBECONFIG", filepath.Join(ar.Dir, "kubeconfig"))
			}
			env, srv, repoURL, sc := reconcileSetup(t, "argo-"+driver, extra...)
			s := startSidecar(t, sc)
			runBootstrap(t, env, env.Token, s.URL, secret)
			admin := adminClient(t, env)
			fabName := "e2e-argo-" + driver
			fab, _ := admin.call(t, http.MethodPost, plugin+"fabrics/", map[string]any{"name": fabName,
				"git_repository_url": repoURL, "git_branch": "main", "gitops_directory": "/" + fabName + "/",
				"self_heal_enabled": false}) // so that a live edit stays for drift detection to see
			resource := func(name string) objState {
				var st objState
				sidecarGet(t, s, "/api/v1/resources/"+fabName+"/VPC/default/"+name, &st)
				return st
			}
			waitState := func(name, want string, commit string) objState {
				var st objState
				require.Eventually(t, func() bool {
					st = resource(name)
					return st.State == want && (commit == "" || st.Commit == commit)
				}, 90*time.Second, 100*time.Millisecond, "%s never %s (now %+v)\n%s\n%s", name, want, st, s.Logs, ar.Log("argocd-application-controller"))
				return st
			}
			vpc := func(name string, n int, extraSubnet map[string]any) map[string]any {
				sub := map[string]any{"subnet": fmt.Sprintf("10.%d.%d.0/24", 40+len(driver), n), "vlan": 1400 + n}
				for k, v := range extraSubnet {
					sub[k] = v
				}
				return map[string]any{"fabric": fab["id"], "name": name, "spec": map[string]any{"subnets": map[string]any{"default": sub}}}
			}

			var lat []time.Duration
			var ids []any
			for i := range 3 {
				name := fmt.Sprintf("vpc-%c%d", driver[0], i)
				begin := time.Now()
				o, _ := admin.call(t, http.MethodPost, plugin+"vpcs/", vpc(name, i, nil))
				ids = append(ids, o["id"])
				waitState(name, "synced", "")
				lat = append(lat, time.Since(begin))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			t.Logf("%s driver: NetBox REST save → synced: p50 %s (min %s, max %s, n=3)", driver,
				lat[1].Round(time.Millisecond), lat[0].Round(time.Millisecond), lat[2].Round(time.Millisecond))

			name0 := fmt.Sprintf("vpc-%c0", driver[0])
			cr, err := dyn.Resource(vpcGVR).Namespace("default").Get(context.Background(), name0, metav1.GetOptions{})
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("10.%d.0.0/24", 40+len(driver)), fmt.Sprint(getPath(cr.Object, "spec", "subnets", "default", "subnet")))
			require.Equal(t, fabName, cr.GetAnnotations()["hnp.githedgehog.com/fabric"])
			require.Eventually(t, func() bool {
				o, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%svpcs/%v/", plugin, ids[0]), nil)
				return o["kubernetes_status"] == "live"
			}, 30*time.Second, 200*time.Millisecond, "NetBox never showed the VPC live\n%s", s.Logs)

			// An edit: a new commit, pending, then synced at that commit.
			begin := time.Now()
			admin.call(t, http.MethodPatch, fmt.Sprintf("%svpcs/%v/", plugin, ids[0]), map[string]any{
				"spec": map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.99.0.0/24", "vlan": 1499}}}})
			var tip string
			require.Eventually(t, func() bool {
				return strings.Contains(remoteFile(t, srv, "argo-"+driver, fabName+"/managed/vpcs/"+name0+".yaml"), "10.99.0.0/24")
			}, 30*time.Second, 50*time.Millisecond)
			tip = strings.SplitN(gitLog(t, srv, "argo-"+driver, "%H"), "\n", 2)[0]
			st := waitState(name0, "synced", tip)
			t.Logf("%s driver: edit → synced at the new commit in %s; history %v", driver, time.Since(begin).Round(time.Millisecond), triggersOf(st))
			require.Contains(t, triggersOf(st), "apply_to_cluster")
			cr, err = dyn.Resource(vpcGVR).Namespace("default").Get(context.Background(), name0, metav1.GetOptions{})
			require.NoError(t, err)
			require.Equal(t, "10.99.0.0/24", fmt.Sprint(getPath(cr.Object, "spec", "subnets", "default", "subnet")))

			// The API server refuses what the CRD schema forbids: drifted, with its reason.
			bad := fmt.Sprintf("vpc-%cbad", driver[0])
			admin.call(t, http.MethodPost, plugin+"vpcs/", vpc(bad, 9, map[string]any{"isolated": "yes"}))
			st = waitState(bad, "drifted", "")
			t.Logf("%s driver: refused by the API server: %s", driver, st.Reason)
			require.Contains(t, st.Reason, "isolated")
			for i := 1; i < 3; i++ {
				require.Equal(t, "synced", resource(fmt.Sprintf("vpc-%c%d", driver[0], i)).State, "the others stay synced")
			}

			// Drift: a live edit behind Argo CD's back, then restored.
			name1 := fmt.Sprintf("vpc-%c1", driver[0])
			vlan := func(v int) {
				_, err := dyn.Resource(vpcGVR).Namespace("default").Patch(context.Background(), name1, types.MergePatchType,
					fmt.Appendf(nil, `{"spec":{"subnets":{"default":{"vlan":%d}}}}`, v), metav1.PatchOptions{FieldManager: "kubectl-edit"})
				require.NoError(t, err)
			}
			fabricShows := func(status string, count int) {
				require.Eventually(t, func() bool {
					f, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%sfabrics/%v/", plugin, fab["id"]), nil)
					return f["drift_status"] == status && fmt.Sprint(f["drift_count"]) == fmt.Sprint(count)
				}, 30*time.Second, 200*time.Millisecond, "NetBox never showed the fabric %s (%d)\n%s", status, count, s.Logs)
			}
			fabricShows("drifted", 1) // the refused VPC
			vlan(1777)
			var rep struct {
				NewlyDrifted int `json:"newly_drifted"`
				Resolved     int `json:"resolved"`
				Drifted      []struct {
					Name string `json:"name"`
					Diff []struct {
						Path string `json:"path"`
						Git  any    `json:"git"`
						Live any    `json:"live"`
					} `json:"diff"`
				} `json:"drifted"`
				Duration string `json:"duration"`
			}
			require.Equal(t, http.StatusOK, sidecarDo(t, s, http.MethodPost, "/api/v1/fabrics/"+fabName+"/drift", &rep))
			require.Equal(t, 1, rep.NewlyDrifted)
			st = resource(name1)
			require.Equal(t, "drifted", st.State)
			require.Equal(t, fmt.Sprintf("live CR differs from Git: spec.subnets.default.vlan: git %d, live 1777", 1401), st.Reason)
			t.Logf("%s driver: live edit → drifted in %s: %s", driver, rep.Duration, st.Reason)
			fabricShows("drifted", 2)
			require.Eventually(t, func() bool {
				o, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%svpcs/%v/", plugin, ids[1]), nil)
				return o["kubernetes_status"] == "error"
			}, 30*time.Second, 200*time.Millisecond)
			vlan(1401)
			require.Equal(t, http.StatusOK, sidecarDo(t, s, http.MethodPost, "/api/v1/fabrics/"+fabName+"/drift", &rep))
			require.Equal(t, 1, rep.Resolved)
			require.Equal(t, "synced", resource(name1).State)
			require.Equal(t, "drift_resolved", resource(name1).History[0].Trigger)
			fabricShows("drifted", 1)
		})
	}
}

func triggersOf(st objState) []string {
	var out []string
	for _, h := range st.History {
		out = append(out, h.Trigger)
	}
	return out
}

func getPath(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, _ := v.(map[string]any)
		v = mm[p]
	}
	return v
}
