package reconcile

import (
	"fmt"
	"testing"

	"github.com/githedgehog/hnp-sidecar/internal/known"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
	"github.com/githedgehog/hnp-sidecar/internal/render"
)

// The CPU of an incremental run's plan against a full plan of the same
// fabric (n VPCs): the one object validated with the others and rendered,
// against all of them. go test -run '^$' -bench Plan ./internal/reconcile
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		snap := &known.Fabric{Tip: "t", Gen: 1, Entries: map[string]known.Entry{}}
		for i := range n {
			e := known.Entry{Kind: "VPC", ID: int64(i + 1), Name: fmt.Sprintf("v-%d", i), Spec: map[string]any{"subnets": map[string]any{
				"default": map[string]any{"subnet": fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), "vlan": float64(1000 + i%2000)}}}}
			snap.Entries[e.Field()] = e
		}
		f := netbox.Fabric{ID: 1, Name: "f"}
		old := snap.Entries[known.Field("VPC", 7)]
		put := old
		put.Spec = map[string]any{"subnets": map[string]any{"default": map[string]any{"subnet": "10.250.0.0/24", "vlan": float64(3999)}}}
		r := &Reconciler{}
		b.Run(fmt.Sprintf("incremental/%d", n), func(b *testing.B) {
			_, _ = validityOf(snap, "f") // computed once per generation, carried to the next
			for b.Loop() {
				if _, err := r.planObject(f, "f", snap, old, true, &put); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("full/%d", n), func(b *testing.B) {
			objs := make([]listed, 0, n)
			for _, e := range snap.Entries {
				o, _ := objectOf(e)
				objs = append(objs, listed{kind: o.Kind, obj: netbox.Object{ID: o.ID, Name: o.Name, Spec: o.Spec}})
			}
			for b.Loop() {
				ros := make([]render.Object, 0, n)
				for _, it := range objs {
					ros = append(ros, toRender(it.kind, it.obj))
				}
				if _, _, err := Plan(render.Fabric{ID: f.ID, Name: f.Name}, "f", ros); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
