package render

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
	"github.com/githedgehog/hnp-sidecar/internal/testenv/fabric"
)

// TestRenderedCRsAcceptedByAPIServer renders every object of the golden
// inputs (the fixture: the sample fabric plus one object of each kind it
// lacks, with edits) and of the sample fabric `make run` loads, and
// server-side dry-run applies each CR to a real kube-apiserver with the real
// Hedgehog CRDs: each must be accepted (schema, formats, CEL rules; server-side
// apply refuses fields the schema does not declare) and come back with every
// value we sent, since a value the API server drops or changes is a
// permanent diff for Argo CD. The fabric's own admission webhook is not
// there; Validate stands in for it.
func TestRenderedCRsAcceptedByAPIServer(t *testing.T) {
	c := clusterenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	sets := []struct {
		name string
		objs []Object
	}{
		{"golden inputs (fixture)", fixture(t)},
		{"sample fabric", objects(t, fabric.Generate(fabric.SampleOptions()))},
	}
	var rejected, pruned []string
	total := 0
	kinds := map[string]int{}
	start := time.Now()
	for _, s := range sets {
		for _, o := range s.objs {
			body, err := Render(testFabric, o)
			require.NoError(t, err, "%s: %s", s.name, o.Ref())
			docs, err := clusterenv.Decode(body)
			require.NoError(t, err)
			require.Len(t, docs, 1)
			total++
			kinds[o.Kind.Name]++
			got, err := c.ApplyObject(ctx, docs[0], true)
			if err != nil {
				rejected = append(rejected, fmt.Sprintf("%s: %s: %v", s.name, o.Ref(), err))
				continue
			}
			for _, field := range []string{"spec"} {
				for _, p := range missing(docs[0].Object[field], got.Object[field], field) {
					pruned = append(pruned, fmt.Sprintf("%s: %s: %s", s.name, o.Ref(), p))
				}
			}
			for _, field := range []string{"labels", "annotations"} {
				want, _ := docs[0].Object["metadata"].(map[string]any)[field]
				have, _ := got.Object["metadata"].(map[string]any)[field]
				for _, p := range missing(want, have, "metadata."+field) {
					pruned = append(pruned, fmt.Sprintf("%s: %s: %s", s.name, o.Ref(), p))
				}
			}
		}
	}
	var byKind []string
	for k, n := range kinds {
		byKind = append(byKind, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(byKind)
	t.Logf("%d of %d rendered CRs accepted by kube-apiserver %s (server-side dry-run apply, %s): %s",
		total-len(rejected), total, c.Version, time.Since(start).Round(time.Millisecond), strings.Join(byKind, ", "))
	require.Empty(t, rejected, "CRs the API server rejects")
	require.Empty(t, pruned, "fields the API server drops (pruned: not in the CRD schema)")
}

// missing lists the paths of want's values that have is missing or holds
// differently (the server may add defaults, which is not listed).
func missing(want, have any, path string) []string {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: sent %v, got %v", path, want, have)}
		}
		var out []string
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if _, ok := h[k]; !ok {
				out = append(out, path+"."+k+": dropped")
				continue
			}
			out = append(out, missing(w[k], h[k], path+"."+k)...)
		}
		return out
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return []string{fmt.Sprintf("%s: sent %v, got %v", path, want, have)}
		}
		var out []string
		for i := range w {
			out = append(out, missing(w[i], h[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	default:
		if !reflect.DeepEqual(fmt.Sprint(want), fmt.Sprint(have)) {
			return []string{fmt.Sprintf("%s: sent %v, got %v", path, want, have)}
		}
		return nil
	}
}
