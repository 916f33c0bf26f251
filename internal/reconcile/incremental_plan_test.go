package reconcile

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

func vpcEntry(id int64, name, ns, subnet string) known.Entry {
	return known.Entry{Kind: "VPC", ID: id, Name: name, Namespace: ns, Spec: map[string]any{"subnets": map[string]any{
		"default": map[string]any{"subnet": subnet, "vlan": float64(1000 + id)}}}}
}

// What an incremental plan does, and when it hands over to a full run.
func TestPlanObject(t *testing.T) {
	att := known.Entry{Kind: "VPCAttachment", ID: 20, Name: "a1", Spec: map[string]any{"connection": "c1", "subnet": "v1/default"}}
	base := []known.Entry{vpcEntry(1, "v1", "", "10.1.0.0/24"), vpcEntry(2, "v2", "", "10.2.0.0/24"), att}
	renamed := vpcEntry(2, "v9", "", "10.2.0.0/24")
	edited := vpcEntry(2, "v2", "", "10.2.9.0/24")
	invalid := vpcEntry(2, "v2", "", "10.2.0.0/31")
	referenced := vpcEntry(1, "v1", "", "10.1.0.0/31") // the attachment's VPC turns invalid
	for _, tc := range []struct {
		name    string
		extra   []known.Entry
		old     known.Entry
		had     bool
		put     *known.Entry
		reason  string // "" when incremental
		changes []string
		deleted bool
	}{
		{name: "edit", old: base[1], had: true, put: &edited, changes: []string{"f/managed/vpcs/v2.yaml"}},
		{name: "edit to invalid keeps the file", old: base[1], had: true, put: &invalid},
		{name: "rename", old: base[1], had: true, put: &renamed, reason: FullRenamed},
		{name: "namespace", old: base[1], had: true, put: &known.Entry{Kind: "VPC", ID: 2, Name: "v2", Namespace: "x", Spec: edited.Spec}, reason: FullRenamed},
		{name: "create", put: &known.Entry{Kind: "VPC", ID: 3, Name: "v3", Spec: vpcEntry(3, "", "", "10.3.0.0/24").Spec}, changes: []string{"f/managed/vpcs/v3.yaml"}},
		{name: "create on another's name", put: &known.Entry{Kind: "VPC", ID: 3, Name: "v2", Spec: edited.Spec}, reason: FullRenamed},
		{name: "edit of a duplicate", extra: []known.Entry{vpcEntry(4, "v2", "", "10.4.0.0/24")}, old: base[1], had: true, put: &edited, reason: FullRenamed},
		{name: "delete", old: base[1], had: true, changes: []string{"f/managed/vpcs/v2.yaml"}, deleted: true},
		// a1 is invalid already (no connection c1): v1 turning invalid
		// changes neither its validity nor its reasons, and v1 keeps its
		// file; v1 deleted adds a reason to a1's: a full run.
		{name: "a referenced object turns invalid", old: base[0], had: true, put: &referenced},
		{name: "a referenced object goes", old: base[0], had: true, reason: FullDependents},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := &known.Fabric{Tip: "t", Gen: 1, Entries: map[string]known.Entry{}}
			for _, e := range append(append([]known.Entry{}, base...), tc.extra...) {
				snap.Entries[e.Field()] = e
			}
			r := &Reconciler{}
			p, err := r.planObject(netbox.Fabric{ID: 1, Name: "f"}, "f", snap, tc.old, tc.had, tc.put)
			if tc.reason != "" {
				var nf *NeedFullError
				require.True(t, errors.As(err, &nf), "want a full run (%s), got %v", tc.reason, err)
				require.Equal(t, tc.reason, nf.Reason)
				return
			}
			require.NoError(t, err)
			var paths []string
			for _, c := range p.changes {
				paths = append(paths, c.Path)
				require.Equal(t, tc.deleted, c.Content == nil)
			}
			require.Equal(t, tc.changes, paths)
		})
	}
}
