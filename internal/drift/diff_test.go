package drift

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name      string
		git, live any
		want      []string
	}{
		{"equal", map[string]any{"a": 1, "b": []any{"x"}}, map[string]any{"a": 1.0, "b": []any{"x"}}, nil},
		{"nulls and empties are absent", map[string]any{"a": map[string]any{}, "b": nil, "c": []any{}}, map[string]any{}, nil},
		{"changed leaf", map[string]any{"s": map[string]any{"vlan": 1001}}, map[string]any{"s": map[string]any{"vlan": int64(1002)}},
			[]string{"spec.s.vlan: git 1001, live 1002"}},
		{"only live", map[string]any{}, map[string]any{"isolated": true}, []string{"spec.isolated: only in the cluster (true)"}},
		{"missing live", map[string]any{"gateway": "10.0.1.1"}, map[string]any{}, []string{`spec.gateway: missing in the cluster (git "10.0.1.1")`}},
		{"list is one value", map[string]any{"l": []any{"a", "b"}}, map[string]any{"l": []any{"b", "a"}},
			[]string{"spec.l: git [a b], live [b a]"}},
		{"sorted", map[string]any{"b": 1, "a": 1}, map[string]any{"b": 2, "a": 2}, []string{"spec.a: git 1, live 2", "spec.b: git 1, live 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, d := range Diff("spec", tc.git, tc.live) {
				got = append(got, d.String())
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestSummaryCaps(t *testing.T) {
	d := Diff("spec", map[string]any{"a": 1, "b": 1, "c": 1}, map[string]any{"a": 2, "b": 2, "c": 2})
	require.Equal(t, "live CR differs from Git: spec.a: git 1, live 2; spec.b: git 1, live 2; and 1 more", Summary(d, 2))
}

func TestApplyDefaults(t *testing.T) {
	schema := map[string]any{"properties": map[string]any{
		"lf": map[string]any{"properties": map[string]any{
			"threshold": map[string]any{"default": int64(3)},
			"interval":  map[string]any{"default": int64(300)},
		}},
		"ports": map[string]any{"items": map[string]any{"properties": map[string]any{"mtu": map[string]any{"default": int64(9036)}}}},
		"byName": map[string]any{"additionalProperties": map[string]any{"properties": map[string]any{
			"on": map[string]any{"default": true}}}},
		"absent": map[string]any{"properties": map[string]any{"x": map[string]any{"default": 1}}},
	}}
	got := ApplyDefaults(map[string]any{
		"lf":     map[string]any{"threshold": int64(5)},
		"ports":  []any{map[string]any{}, map[string]any{"mtu": int64(1500)}},
		"byName": map[string]any{"a": map[string]any{}},
	}, schema)
	require.Equal(t, map[string]any{
		"lf":     map[string]any{"threshold": int64(5), "interval": int64(300)},
		"ports":  []any{map[string]any{"mtu": int64(9036)}, map[string]any{"mtu": int64(1500)}},
		"byName": map[string]any{"a": map[string]any{"on": true}},
	}, got, "defaults fill present objects only; an absent parent stays absent")
}

func TestAgentState(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	agent := func(gen, applied int64, hb string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"lastAppliedGen": applied, "lastHeartbeat": hb}}}
		u.SetGeneration(gen)
		return u
	}
	fresh := now.Add(-30 * time.Second).Format(time.RFC3339)
	for _, tc := range []struct {
		name string
		o    *unstructured.Unstructured
		want string
	}{
		{"converged", agent(3, 3, fresh), ""},
		{"missing", nil, "no Agent"},
		{"behind", agent(4, 3, fresh), "config generation 4 not applied (last applied 3)"},
		{"silent", agent(3, 3, now.Add(-10*time.Minute).Format(time.RFC3339)), "last heartbeat 10m0s ago"},
		{"never", agent(3, 3, ""), "no heartbeat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, agentState(tc.o, now, 2*time.Minute).Reason)
		})
	}
}
