package render

import (
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// TestGolden renders one realistic object of every kind and compares it
// with testdata/golden/<plural>/<name>.yaml (go test -run Golden -update
// rewrites them).
func TestGolden(t *testing.T) {
	objs := fixture(t)
	set := NewSet(objs...)
	picks := goldenNames()
	require.Len(t, picks, len(kind.CRs()), "one golden object per kind")
	for _, k := range kind.CRs() {
		t.Run(k.Name, func(t *testing.T) {
			o := find(t, objs, k.Name, picks[k.Name])
			require.Empty(t, Validate(o, set))
			got, err := Render(testFabric, o)
			require.NoError(t, err)
			file := filepath.Join("testdata", "golden", k.Plural, o.Name+".yaml")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
				require.NoError(t, os.WriteFile(file, got, 0o644))
			}
			want, err := os.ReadFile(file)
			require.NoError(t, err, "run go test ./internal/render -run Golden -update")
			require.Equal(t, string(want), string(got))
		})
	}
}

func TestRenderShape(t *testing.T) {
	objs := fixture(t)
	got, err := Render(testFabric, find(t, objs, "VPC", "vpc-01"))
	require.NoError(t, err)
	text := string(got)
	require.True(t, strings.HasPrefix(text, "# VPC: vpc-01\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\n"), text)
	for _, want := range []string{
		"argocd.argoproj.io/sync-wave: \"0\"\n",
		"hnp.githedgehog.com/netbox-object: netbox_hedgehog.vpc/",
		"hnp.githedgehog.com/fabric: fabric-1\n",
		"hnp.githedgehog.com/managed-by: hnp-sidecar\n",
		"tier: \"2\"\n",
		"vlan: 1001\n",
		"leaseTimeSeconds: 3600\n",
	} {
		require.Contains(t, text, want)
	}
	require.NotContains(t, text, "fabric.githedgehog.com/")
	require.NotContains(t, text, "gateway: \"\"", "empty gateway is left to the fabric's default")

	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(got, &doc))
	require.Equal(t, []any{"apiVersion", "kind", "metadata", "spec"}, keysOf(doc))
}

func TestRenderNumbersAndEmptyMetadata(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"asn": 1002}`, "asn: 1002\n"},
		{`{"asn": 1002.0}`, "asn: 1002\n"},
		{`{"asn": 1.002e3}`, "asn: 1002\n"},
		{`{"asn": 4294967295}`, "asn: 4294967295\n"},
		{`{"ratio": 0.5}`, "ratio: 0.5\n"},
		{`{"role": "spine", "gone": null}`, "spec:\n  role: spine\n"},
	} {
		got, err := Render(testFabric, Object{Kind: kindByName(t, "Switch"), ID: 7, Name: "spine-01", Spec: fromJSON(t, tc.in)})
		require.NoError(t, err, tc.in)
		require.Contains(t, string(got), tc.want, tc.in)
		require.NotContains(t, string(got), "labels:", "empty labels are omitted")
		require.NotContains(t, string(got), "gone")
	}
	got, err := Render(testFabric, Object{Kind: kindByName(t, "SwitchGroup"), ID: 3, Name: "mclag-1",
		Labels: map[string]any{"fabric.githedgehog.com/only": "x"}})
	require.NoError(t, err)
	require.Contains(t, string(got), "spec: {}\n")
	require.NotContains(t, string(got), "labels:")
}

func TestRenderUserAnnotationsCannotOverrideOurs(t *testing.T) {
	o := Object{Kind: kindByName(t, "Server"), ID: 5, Name: "server-01", Spec: map[string]any{},
		Annotations: map[string]any{AnnotationSyncWave: "9", AnnotationFabric: "other", "x.example.com/y": "z"}}
	got, err := Render(testFabric, o)
	require.NoError(t, err)
	require.Contains(t, string(got), "argocd.argoproj.io/sync-wave: \"-1\"\n")
	require.Contains(t, string(got), "hnp.githedgehog.com/fabric: fabric-1\n")
	require.Contains(t, string(got), "x.example.com/y: z\n")
}

func TestRenderRefuses(t *testing.T) {
	for name, o := range map[string]Object{
		"unknown kind":      {Kind: kind.Kind{Name: "Pod"}, Name: "x"},
		"fabric kind":       {Kind: kind.Fabric, Name: "x"},
		"newline in name":   {Kind: kindByName(t, "Server"), Name: "a\nkind: Secret"},
		"uppercase":         {Kind: kindByName(t, "Server"), Name: "Server-1"},
		"label is object":   {Kind: kindByName(t, "Server"), Name: "s", Labels: map[string]any{"a": map[string]any{}}},
		"annotation null":   {Kind: kindByName(t, "Server"), Name: "s", Annotations: map[string]any{"a": nil}},
		"spec not encoding": {Kind: kindByName(t, "Server"), Name: "s", Spec: map[string]any{"c": make(chan int)}},
	} {
		_, err := Render(testFabric, o)
		require.ErrorIs(t, err, ErrInvalid, name)
		require.True(t, strings.HasPrefix(err.Error(), "render: "), err.Error())
	}
}

// TestRenderRoundTrip: strings YAML treats specially come back unchanged
// when the file is read the way kubectl and Argo CD read it.
func TestRenderRoundTrip(t *testing.T) {
	odd := []any{"yes", "no", "on", "null", "~", "", " lead", "trail ", "0x10", "1e3", "010", "- x", "a: b", "#c",
		"65102:5000", "multi\nline\n", "tab\tx", "del\x7f", "c1\u0090", "nel\u0085", "bom\ufeff", "'\"", "{[]}", "*a", "&a", "!t"}
	spec := map[string]any{"values": odd, strings.Repeat("k", 2000): "long key", "del\x7fkey": true}
	o := Object{Kind: kindByName(t, "Server"), Name: "s", Spec: spec,
		Labels: map[string]any{"l": "x"}, Annotations: map[string]any{"a": "bad\xffutf8", "b": "yes"}}
	out, err := Render(Fabric{Name: "on"}, o)
	require.NoError(t, err)
	var doc struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec map[string]any `json:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(out, &doc))
	require.Equal(t, spec, doc.Spec)
	require.Equal(t, "bad\uFFFDutf8", doc.Metadata.Annotations["a"])
	require.Equal(t, "yes", doc.Metadata.Annotations["b"])
	require.Equal(t, "on", doc.Metadata.Annotations[AnnotationFabric])
}

// TestDeterminism renders every fixture object from copies built with keys
// inserted in shuffled orders, and from Go ints instead of JSON float64s:
// the bytes never change.
func TestDeterminism(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, o := range fixture(t) {
		want, err := Render(testFabric, o)
		require.NoError(t, err)
		for range 5 {
			c := o
			c.Spec = shuffled(rng, o.Spec).(map[string]any)
			c.Labels, _ = shuffled(rng, o.Labels).(map[string]any)
			c.Annotations, _ = shuffled(rng, o.Annotations).(map[string]any)
			got, err := Render(testFabric, c)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%s %s", o.Kind.Name, o.Name)
		}
	}
}

func TestManifest(t *testing.T) {
	f := Fabric{ID: 42, Name: "prod: \"east\"\n#1"}
	require.Equal(t, Manifest(f), Manifest(f))
	var m struct {
		Fabric struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"fabric"`
		Generator     string `json:"generator"`
		LayoutVersion int    `json:"layoutVersion"`
	}
	require.NoError(t, yaml.UnmarshalStrict(Manifest(f), &m))
	require.Equal(t, int64(42), m.Fabric.ID)
	require.Equal(t, f.Name, m.Fabric.Name)
	require.Equal(t, "hnp-sidecar", m.Generator)
	require.Equal(t, 1, m.LayoutVersion)
}

// shuffled deep-copies v, inserting map keys in a random order.
func shuffled(rng *rand.Rand, v any) any {
	switch t := v.(type) {
	case map[string]any:
		if t == nil {
			return t
		}
		keys := keysOf(t)
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		out := make(map[string]any, len(t))
		for _, k := range keys {
			out[k.(string)] = shuffled(rng, t[k.(string)])
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = shuffled(rng, e)
		}
		return out
	case float64:
		if t == float64(int64(t)) && rng.IntN(2) == 0 {
			return int(t) // Go ints, as internal/testenv/fabric writes them
		}
	}
	return v
}

func keysOf(m map[string]any) []any {
	out := make([]any, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, k)
	}
	return out
}
