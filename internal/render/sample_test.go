package render

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
)

// TestSampleFabricIsValid renders every object of the sample fabric `make
// run` loads: all of them pass validation against the whole set, render,
// and get distinct paths.
func TestSampleFabricIsValid(t *testing.T) {
	for _, objs := range [][]Object{objects(t, fabric.Generate(fabric.SampleOptions())), fixture(t)} {
		set := NewSet(objs...)
		paths := map[string]string{}
		for _, o := range objs {
			require.Empty(t, Validate(o, set), "%s %s", o.Kind.Name, o.Name)
			_, err := Render(testFabric, o)
			require.NoError(t, err)
			p, err := Path("fabric-1", o)
			require.NoError(t, err)
			require.NotContains(t, paths, p, "%s and %s share a file", o.Ref(), paths[p])
			paths[p] = o.Ref().String()
		}
	}
}

func BenchmarkRender(b *testing.B) {
	objs := objects(b, fabric.Generate(fabric.ForSwitches(100)))
	set := NewSet(objs...)
	b.ResetTimer()
	for b.Loop() {
		for _, o := range objs {
			if len(Validate(o, set)) > 0 {
				b.Fatal("invalid")
			}
			if _, err := Render(testFabric, o); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(objs)), "objects/op")
}
