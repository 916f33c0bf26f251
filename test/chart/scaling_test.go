package chart

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// first is the value set's first object of kind (nil if none).
func first(objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	return nil
}

// scalingOut checks what replicaCount > 1 needs (README: Scaling out):
// each pod its own clone volume and never a shared PVC, a rolling update
// that starts a new pod before an old one stops, a PDB whenever there is
// more than one replica, and spreading over nodes and zones when asked.
func scalingOut(t *testing.T, sets map[string][]*unstructured.Unstructured) {
	t.Helper()
	str := func(o *unstructured.Unstructured, path ...string) string {
		v, _, _ := unstructured.NestedFieldNoCopy(o.Object, path...)
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	}
	for _, tc := range []struct {
		set, strategy, pdb string
		replicas           int64
		volume             string // the git volume's source
		pvc                bool
	}{
		{set: "defaults", strategy: "RollingUpdate", replicas: 1, volume: "emptyDir"},
		{set: "full", strategy: "Recreate", pdb: "maxUnavailable=1", replicas: 1, volume: "persistentVolumeClaim", pvc: true},
		{set: "namespaces", strategy: "RollingUpdate", pdb: "maxUnavailable=1", replicas: 2, volume: "emptyDir"},
		{set: "replicas", strategy: "RollingUpdate", pdb: "maxUnavailable=1", replicas: 3, volume: "ephemeral"},
	} {
		objs := sets[tc.set]
		d := first(objs, "Deployment")
		require.NotNil(t, d, tc.set)
		require.Equal(t, fmt.Sprint(tc.replicas), str(d, "spec", "replicas"), tc.set)
		require.Equal(t, tc.strategy, str(d, "spec", "strategy", "type"), tc.set)
		if tc.strategy == "RollingUpdate" {
			require.Equal(t, "1", str(d, "spec", "strategy", "rollingUpdate", "maxSurge"), tc.set)
			require.Equal(t, "0", str(d, "spec", "strategy", "rollingUpdate", "maxUnavailable"), tc.set)
		}
		vols, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
		var git map[string]any
		for _, v := range vols {
			if m := v.(map[string]any); m["name"] == "git" {
				git = m
			}
		}
		require.Contains(t, git, tc.volume, "%s: the clone volume", tc.set)
		require.Equal(t, tc.pvc, first(objs, "PersistentVolumeClaim") != nil, "%s: a PVC", tc.set)
		pdb := first(objs, "PodDisruptionBudget")
		if tc.pdb == "" {
			require.Nil(t, pdb, "%s: no PDB with one replica (podDisruptionBudget.enabled auto)", tc.set)
		} else {
			require.NotNil(t, pdb, tc.set)
			require.Equal(t, "1", str(pdb, "spec", "maxUnavailable"), tc.set)
		}
	}
	d := first(sets["replicas"], "Deployment")
	require.Contains(t, str(d, "spec", "template", "spec", "affinity", "podAntiAffinity",
		"preferredDuringSchedulingIgnoredDuringExecution"), "topologyKey:kubernetes.io/hostname", "soft anti-affinity")
	spread, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "topologySpreadConstraints")
	require.Len(t, spread, 1)
	require.Contains(t, fmt.Sprint(spread[0]), "app.kubernetes.io/instance:hnp-replicas", "the release's pods are spread")
	t.Log("scaling out: rolling update (maxSurge 1, maxUnavailable 0) unless one replica has a PVC; a PDB from 2 replicas; with persistence and 3 replicas each pod its own ephemeral clone volume and no shared PVC; anti-affinity and zone spread")
}
