package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
)

// operatorSync is the revision of a sync someone started in Argo CD: the
// fake Argo CD takes 4s over it, so the sidecar's own sync waits (busy).
const operatorSync = "operator-sync"

// actLikeArgoCD answers every sync the sidecar asks of an Application in
// ns (its operation) as Argo CD would once applied: synced to the
// revision, operation succeeded, healthy. A real API server, no Argo CD.
func actLikeArgoCD(ctx context.Context, t *testing.T, dyn dynamic.Interface, ns string) {
	apps := dyn.Resource(argocd.ApplicationGVR).Namespace(ns)
	asked := map[string]time.Time{} // a sync takes Argo CD a while: committed and pending are seen meanwhile
	for ctx.Err() == nil {
		list, err := apps.List(ctx, metav1.ListOptions{})
		if err == nil {
			for _, a := range list.Items {
				op, _ := a.Object["operation"].(map[string]any)
				sync, _ := op["sync"].(map[string]any)
				rev, _ := sync["revision"].(string)
				if rev == "" {
					continue
				}
				if at, ok := asked[a.GetName()+"@"+rev]; !ok {
					asked[a.GetName()+"@"+rev] = time.Now()
					continue
				} else if hold := time.Second; time.Since(at) < hold || (rev == operatorSync && time.Since(at) < 4*time.Second) {
					continue
				}
				patch, _ := json.Marshal(map[string]any{"operation": nil, "status": map[string]any{
					"sync":   map[string]any{"status": "Synced", "revision": rev},
					"health": map[string]any{"status": "Healthy"},
					"operationState": map[string]any{"phase": "Succeeded", "message": "successfully synced (fake Argo CD)",
						"operation": op, "syncResult": map[string]any{"revision": rev},
						"startedAt": asked[a.GetName()+"@"+rev].UTC().Format(time.RFC3339), "finishedAt": time.Now().UTC().Format(time.RFC3339)},
				}})
				if _, err := apps.Patch(ctx, a.GetName(), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && ctx.Err() == nil {
					t.Errorf("fake Argo CD: %v", err)
					return
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// A VPC's state on its HedgehogResource in NetBox: draft (invalid) →
// committed → synced, through the real NetBox, the sidecar binary, Redis,
// Git and a real API server holding the Application (the test answers the
// sync as Argo CD would); then the VPC deleted → its HedgehogResource gone.
func TestHedgehogResourceShowsStates(t *testing.T) {
	cl, kubeconfig := argoCRDCluster(t)
	dyn, err := cl.Dynamic()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); actLikeArgoCD(ctx, t, dyn, "argocd") }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	env, srv, repoURL, sc := reconcileSetup(t, "hr-states", "HNP_QUEUE_COALESCE_WINDOW", "100ms", "HNP_RECONCILE_INTERVAL", "0",
		"HNP_DRIFT_INTERVAL", "0", "HNP_ARGOCD_DRIVER", "kubernetes", "HNP_KUBECONFIG", kubeconfig)
	s := startSidecar(t, sc)
	runBootstrap(t, env, env.Token, s.URL, secret)
	admin := adminClient(t, env)
	fab, _ := admin.newFabric(t, map[string]any{"name": "e2e-hr", "gitops_tool": "argocd", "git_repository_url": repoURL,
		"git_branch": "main", "gitops_directory": "/e2e-hr/"})
	listPath := fmt.Sprintf("%sgitops-resources/?fabric=%v&kind=VPC", plugin, fab["id"])
	type seen struct {
		state, drift, commit, reason string
		at                           time.Duration
	}
	var seenStates []seen
	var resource map[string]any
	watch := func(start time.Time, want string, timeout time.Duration) {
		t.Helper()
		require.Eventually(t, func() bool {
			l, _ := admin.call(t, http.MethodGet, listPath, nil)
			rs, _ := l["results"].([]any)
			if len(rs) != 1 {
				return false
			}
			resource = rs[0].(map[string]any)
			st := fmt.Sprint(resource["resource_state"])
			if n := len(seenStates); n == 0 || seenStates[n-1].state != st {
				seenStates = append(seenStates, seen{st, fmt.Sprint(resource["drift_status"]), fmt.Sprint(resource["desired_commit"]),
					fmt.Sprint(resource["state_change_reason"]), time.Since(start).Round(time.Millisecond)})
			}
			return st == want
		}, timeout, 25*time.Millisecond, "the VPC's HedgehogResource never reached %s (seen %v)\n%s", want, seenStates, s.Logs)
	}
	spec := func(vlan int) map[string]any {
		return map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.66.0.0/24", "vlan": vlan}}}
	}
	start := time.Now()
	vpc, _ := admin.call(t, http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": fab["id"], "name": "vpc-hr", "spec": spec(5000)})
	watch(start, "draft", 60*time.Second)
	require.Equal(t, "creation_pending", resource["drift_status"])
	require.Contains(t, resource["state_change_reason"], "hnp-sidecar: draft since")
	require.Contains(t, resource["state_change_reason"], "vlan")
	require.EqualValues(t, vpc["id"], resource["object_id"], "linked to the VPC")
	require.NotNil(t, resource["content_type"])
	require.Equal(t, "vpc.githedgehog.com/v1beta1", resource["api_version"])

	start = time.Now()
	admin.call(t, http.MethodPatch, fmt.Sprintf("%svpcs/%v/", plugin, vpc["id"]), map[string]any{"spec": spec(1666)})
	watch(start, "synced", 90*time.Second)
	tip := strings.SplitN(gitLog(t, srv, "hr-states", "%H"), "\n", 2)[0]
	require.Equal(t, tip, resource["desired_commit"])
	require.Equal(t, tip, resource["last_synced_commit"])
	require.Equal(t, "e2e-hr/managed/vpcs/vpc-hr.yaml", resource["desired_file_path"])
	require.Equal(t, "in_sync", resource["drift_status"])
	_, comps := healthOf(t, s)
	require.Contains(t, string(comps["netbox_resources"]), `"gitops_resources":"on"`)
	for _, s := range seenStates {
		t.Logf("HedgehogResource: %-9s drift_status=%-16s desired_commit=%.12s at +%s  reason=%q", s.state, s.drift, s.commit, s.at, s.reason)
	}
	var states []string
	for _, s := range seenStates {
		states = append(states, s.state)
	}
	require.Equal(t, "draft", states[0])
	require.Equal(t, "synced", states[len(states)-1])

	// Argo CD busy with a sync someone started: the next edit's commit is
	// shown as committed until the sidecar's own sync is accepted.
	apps := dyn.Resource(argocd.ApplicationGVR).Namespace("argocd")
	list, err := apps.List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	busy, _ := json.Marshal(map[string]any{"operation": map[string]any{"initiatedBy": map[string]any{"username": "operator"},
		"sync": map[string]any{"revision": operatorSync}}})
	_, err = apps.Patch(ctx, list.Items[0].GetName(), types.MergePatchType, busy, metav1.PatchOptions{})
	require.NoError(t, err)
	start = time.Now()
	admin.call(t, http.MethodPatch, fmt.Sprintf("%svpcs/%v/", plugin, vpc["id"]), map[string]any{"spec": spec(1667)})
	watch(start, "committed", 60*time.Second)
	watch(start, "synced", 90*time.Second)
	tip2 := strings.SplitN(gitLog(t, srv, "hr-states", "%H"), "\n", 2)[0]
	require.NotEqual(t, tip, tip2)
	require.Equal(t, tip2, resource["desired_commit"])
	for _, s := range seenStates[len(states):] {
		t.Logf("HedgehogResource: %-9s drift_status=%-16s desired_commit=%.12s at +%s  reason=%q", s.state, s.drift, s.commit, s.at, s.reason)
	}
	states = states[:0]
	for _, s := range seenStates {
		states = append(states, s.state)
	}
	t.Logf("states seen on the VPC's HedgehogResource: %v", states)
	require.Contains(t, states, "committed")

	start = time.Now()
	admin.call(t, http.MethodDelete, fmt.Sprintf("%svpcs/%v/", plugin, vpc["id"]), nil)
	require.Eventually(t, func() bool {
		l, _ := admin.call(t, http.MethodGet, listPath, nil)
		return l["count"] == float64(0)
	}, 60*time.Second, 25*time.Millisecond, "the deleted VPC's HedgehogResource was never removed\n%s", s.Logs)
	t.Logf("VPC deleted → its HedgehogResource removed after %s", time.Since(start).Round(time.Millisecond))
	require.Equal(t, 0, strings.Count(s.Logs.String(), "NetBox refused a HedgehogResource"), s.Logs)
}
