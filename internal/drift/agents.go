package drift

import (
	"context"
	"fmt"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var agentGVR = schema.GroupVersionResource{Group: "agent.githedgehog.com", Version: "v1beta1", Resource: "agents"}

// Agents is whether each switch's agent has applied its latest config: its
// Agent's status.lastAppliedGen equals its metadata.generation and its
// status.lastHeartbeat is fresh.
type Agents struct {
	// Installed is false when the cluster has no Agent CRD.
	Installed bool `json:"installed"`
	Switches  int  `json:"switches"`
	Converged int  `json:"converged"`
	// NotConverged lists the others, with why.
	NotConverged []AgentState `json:"not_converged,omitempty"`
}

// AgentState is one switch's agent that has not converged.
type AgentState struct {
	Switch         string `json:"switch"`
	Reason         string `json:"reason"`
	Generation     int64  `json:"generation,omitempty"`
	LastAppliedGen int64  `json:"last_applied_gen,omitempty"`
	LastHeartbeat  string `json:"last_heartbeat,omitempty"`
}

// agents checks the agent of every switch in switches (namespace/name).
func agents(ctx context.Context, d dynamic.Interface, switches []string, now time.Time, maxAge time.Duration) (Agents, error) {
	a := Agents{Installed: true, Switches: len(switches)}
	list, err := d.Resource(agentGVR).Namespace(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		a.Installed = false
		return a, nil
	}
	if err != nil {
		return a, fmt.Errorf("kube: list agents: %w", err)
	}
	byName := map[string]*unstructured.Unstructured{}
	for i := range list.Items {
		o := &list.Items[i]
		byName[o.GetNamespace()+"/"+o.GetName()] = o
	}
	sort.Strings(switches)
	for _, sw := range switches {
		st := agentState(byName[sw], now, maxAge)
		if st.Reason == "" {
			a.Converged++
			continue
		}
		st.Switch = sw
		a.NotConverged = append(a.NotConverged, st)
	}
	return a, nil
}

// agentState says why an agent has not converged ("" when it has).
func agentState(o *unstructured.Unstructured, now time.Time, maxAge time.Duration) AgentState {
	if o == nil {
		return AgentState{Reason: "no Agent"}
	}
	st := AgentState{Generation: o.GetGeneration()}
	st.LastAppliedGen, _, _ = unstructured.NestedInt64(o.Object, "status", "lastAppliedGen")
	st.LastHeartbeat, _, _ = unstructured.NestedString(o.Object, "status", "lastHeartbeat")
	hb, err := time.Parse(time.RFC3339, st.LastHeartbeat)
	switch {
	case st.LastAppliedGen != st.Generation:
		st.Reason = fmt.Sprintf("config generation %d not applied (last applied %d)", st.Generation, st.LastAppliedGen)
	case err != nil:
		st.Reason = "no heartbeat"
	case now.Sub(hb) > maxAge:
		st.Reason = fmt.Sprintf("last heartbeat %s ago", now.Sub(hb).Round(time.Second))
	}
	return st
}
