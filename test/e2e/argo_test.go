package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	argocdenv "github.com/githedgehog/hnp-sidecar/internal/testenv/argocd"
	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
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
	argocdenv.Skip(t)
	start := time.Now()
	cl := clusterenv.Start(t)
	ar := argocdenv.Start(t, argocdenv.Options{Config: cl.Config, RedisAddr: redisenv.Start(t).Addr,
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
			sc["HNP_GIT_DEFAULT_URL"] = repoURL // the AppProject's sourceRepos: its host
			s := startSidecar(t, sc)
			runBootstrap(t, env, env.Token, s.URL, secret)
			admin := adminClient(t, env)
			fabName := "e2e-argo-" + driver
			fab, _ := admin.newFabric(t, map[string]any{"name": fabName, "gitops_tool": "argocd",
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
			require.Eventually(t, func() bool {
				f, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%sfabrics/%v/", plugin, fab["id"]), nil)
				return f["argocd_health_status"] == "healthy" // one of the plugin's choices, not Argo CD's "Healthy"
			}, 30*time.Second, 200*time.Millisecond, "NetBox never showed the Application healthy\n%s", s.Logs)

			// An edit: a new commit, pending, then synced at that commit.
			time.Sleep(2 * time.Second) // what the creates caused has settled
			runs := metricSum(t, s, "hnp_reconcile_runs_total")
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
			require.Eventually(t, func() bool {
				o, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%svpcs/%v/", plugin, ids[0]), nil)
				return o["kubernetes_status"] == "live"
			}, 30*time.Second, 200*time.Millisecond, "NetBox never showed the edited VPC live\n%s", s.Logs)
			time.Sleep(2 * time.Second) // a reconcile the sync caused would come within this
			reconciles := metricSum(t, s, "hnp_reconcile_runs_total") - runs
			t.Logf("%s driver: reconciles for one edit and its Argo CD sync: %.0f (the edit's own; the sync's states reach NetBox without one)", driver, reconciles)
			require.Equal(t, 1.0, reconciles, "an Argo CD sync causes no reconcile\n%s", s.Logs)
			// Three creates and an edit: each measured once to committed and to synced.
			committed, synced := logOutcomes(t, s, driver+" driver")
			require.GreaterOrEqual(t, committed.Count, 4.0)
			require.GreaterOrEqual(t, synced.Count, 4.0)
			require.GreaterOrEqual(t, synced.P50, committed.P50, "synced comes after committed")
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
			fabricShows("drift_detected", 1) // the refused VPC
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
			fabricShows("drift_detected", 2)
			require.Eventually(t, func() bool {
				o, _ := admin.call(t, http.MethodGet, fmt.Sprintf("%svpcs/%v/", plugin, ids[1]), nil)
				return o["kubernetes_status"] == "error"
			}, 30*time.Second, 200*time.Millisecond)
			vlan(1401)
			require.Equal(t, http.StatusOK, sidecarDo(t, s, http.MethodPost, "/api/v1/fabrics/"+fabName+"/drift", &rep))
			require.Equal(t, 1, rep.Resolved)
			require.Equal(t, "synced", resource(name1).State)
			require.Equal(t, "drift_resolved", resource(name1).History[0].Trigger)
			fabricShows("drift_detected", 1)
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

// Argo CD busy, then unreachable, through the REST driver: busy answers
// (edits in quick succession) never count against its breaker; while
// argocd-server cannot be reached the breaker opens and the edited object
// waits in committed; when it is back the syncer tries again by itself
// and the object reaches synced at the new commit, with no manual step.
func TestArgoCDOutageRecovers(t *testing.T) {
	argocdenv.Skip(t)
	cl := clusterenv.Start(t)
	ar := argocdenv.Start(t, argocdenv.Options{Config: cl.Config, RedisAddr: redisenv.Start(t).Addr,
		ConfigMapData: map[string]string{"timeout.reconciliation": "10s"}})
	u, err := url.Parse(ar.URL)
	require.NoError(t, err)
	proxy := newCutProxy(t, u.Host)
	env, srv, repoURL, sc := reconcileSetup(t, "argo-outage", "HNP_QUEUE_COALESCE_WINDOW", "100ms", "HNP_RECONCILE_INTERVAL", "0",
		"HNP_DRIFT_INTERVAL", "0", "HNP_ARGOCD_NAMESPACE", ar.Namespace, "HNP_ARGOCD_DESTINATION_SERVER", ar.ClusterServer,
		"HNP_ARGOCD_SYNC_TIMEOUT", "2m", "HNP_ARGOCD_DRIVER", "rest", "HNP_ARGOCD_URL", proxy.via(ar.URL), "HNP_ARGOCD_TOKEN", ar.Token,
		"HNP_BREAKER_FAILURES", "2", "HNP_BREAKER_OPEN_TIMEOUT", "2s")
	sc["HNP_GIT_DEFAULT_URL"] = repoURL // the AppProject's sourceRepos: its host
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	admin := adminClient(t, env)
	fabName := "e2e-argo-outage"
	fab, _ := admin.newFabric(t, map[string]any{"name": fabName, "gitops_tool": "argocd",
		"git_repository_url": repoURL, "git_branch": "main", "gitops_directory": "/" + fabName + "/"})
	vpc := func(vlan int) map[string]any {
		return map[string]any{"fabric": fab["id"], "name": "vpc-o", "spec": map[string]any{"subnets": map[string]any{
			"default": map[string]any{"subnet": "10.77.0.0/24", "vlan": vlan}}}}
	}
	state := func() objState {
		var st objState
		sidecarGet(t, s, "/api/v1/resources/"+fabName+"/VPC/default/vpc-o", &st)
		return st
	}
	syncedAtTip := func(what string) {
		var tip string
		require.Eventually(t, func() bool {
			out, err := exec.Command("git", "-C", srv.Dir("argo-outage"), "rev-parse", "main").Output()
			if err != nil {
				return false // nothing pushed yet
			}
			tip = strings.TrimSpace(string(out))
			st := state()
			return st.State == "synced" && st.Commit == tip
		}, 2*time.Minute, 100*time.Millisecond, "%s: never synced at the tip %s (now %+v)\n%s", what, tip, state(), s.Logs)
	}
	o, _ := admin.call(t, http.MethodPost, plugin+"vpcs/", vpc(1700))
	syncedAtTip("created")

	// Busy: an operation Argo CD keeps retrying (a revision that does not
	// exist, retried every 30 s) makes every sync request of the sidecar
	// answer "another operation is already in progress" until it is
	// terminated. With two failures to open it, the breaker stays closed.
	ctx := context.Background()
	dyn, err := cl.Dynamic()
	require.NoError(t, err)
	apps := dyn.Resource(argocd.ApplicationGVR).Namespace(ar.Namespace)
	appName := argocd.DerivedName(int64(fab["id"].(float64)), fabName)
	const missing = "0000000000000000000000000000000000000000"
	require.Eventually(t, func() bool {
		a, err := apps.Get(ctx, appName, metav1.GetOptions{})
		if err != nil {
			return false
		}
		if fmt.Sprint(getPath(a.Object, "status", "operationState", "phase")) == "Running" &&
			fmt.Sprint(getPath(a.Object, "status", "operationState", "operation", "sync", "revision")) == missing {
			return true
		}
		if a.Object["operation"] == nil {
			// Only when no other operation (an automated sync) is there, and
			// only on the version read, as the Kubernetes driver does.
			_, _ = apps.Patch(ctx, appName, types.MergePatchType, fmt.Appendf(nil, `{"metadata":{"resourceVersion":%q},`+
				`"operation":{"initiatedBy":{"username":"e2e"},"sync":{"revision":%q},"retry":{"limit":5,"backoff":{"duration":"30s"}}}}`,
				a.GetResourceVersion(), missing), metav1.PatchOptions{})
		}
		return false
	}, 2*time.Minute, 200*time.Millisecond, "Argo CD never ran the operation to a missing revision")
	admin.call(t, http.MethodPatch, fmt.Sprintf("%svpcs/%v/", plugin, o["id"]), vpc(1701))
	// The edit's commit first (NetBox's webhook may take seconds under load).
	require.Eventually(t, func() bool {
		return strings.Contains(remoteFile(t, srv, "argo-outage", fabName+"/managed/vpcs/vpc-o.yaml"), "1701")
	}, time.Minute, 100*time.Millisecond, "the edit never reached Git\n%s", s.Logs)
	tip := strings.SplitN(gitLog(t, srv, "argo-outage", "%H"), "\n", 2)[0]
	require.Eventually(t, func() bool { return state().Commit == tip }, 30*time.Second, 100*time.Millisecond)
	time.Sleep(5 * time.Second) // the syncer asks, hears busy, backs off, asks again
	require.Equal(t, "committed", state().State, "waits while Argo CD is busy")
	remote := proxyRemote(proxy)
	require.Zero(t, metric(t, s, fmt.Sprintf(`hnp_breaker_failures_total{dependency="argocd",remote=%q}`, remote)), "busy is no failure")
	require.Zero(t, metric(t, s, fmt.Sprintf(`hnp_breaker_state{dependency="argocd",remote=%q}`, remote)), "closed")
	req, err := http.NewRequest(http.MethodDelete, ar.URL+"/api/v1/applications/"+appName+"/operation?appNamespace="+ar.Namespace, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+ar.Token)
	req.Header.Set("Content-Type", "application/json") // else 415
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "terminate the operation")
	syncedAtTip("after the busy operation ended")
	t.Logf("busy Argo CD: object waited in committed, breaker closed (0 failures); synced once the operation ended")

	// Unreachable: the breaker opens, the object waits in committed.
	proxy.Cut()
	cut := time.Now()
	admin.call(t, http.MethodPatch, fmt.Sprintf("%svpcs/%v/", plugin, o["id"]), vpc(1710))
	require.Eventually(t, func() bool {
		return metric(t, s, fmt.Sprintf(`hnp_breaker_state{dependency="argocd",remote=%q}`, proxyRemote(proxy))) == 2
	}, time.Minute, 100*time.Millisecond, "the Argo CD breaker never opened\n%s", s.Logs)
	code, comps := healthOf(t, s)
	t.Logf("health during the Argo CD outage (HTTP %d): argocd %s", code, comps["argocd"])
	require.Equal(t, "committed", state().State, "waits in committed")
	time.Sleep(3 * time.Second)
	require.Equal(t, "committed", state().State)

	proxy.Restore()
	back := time.Now()
	syncedAtTip("after Argo CD came back")
	t.Logf("Argo CD outage %s: object waited in committed, breaker open; back → synced at the new commit in %s without a manual step",
		back.Sub(cut).Round(time.Millisecond), time.Since(back).Round(time.Millisecond))
}

// proxyRemote is the breaker's remote label of a proxied URL.
func proxyRemote(p *cutProxy) string { return p.addr }
