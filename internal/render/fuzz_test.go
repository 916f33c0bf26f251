package render

import (
	"encoding/json"
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// FuzzRender feeds arbitrary specs, labels and names of every kind: Render,
// Validate and Path never panic, and a rendered file is one YAML document
// that names the object it was rendered from.
func FuzzRender(f *testing.F) {
	f.Add(uint8(6), "vpc-1", `{"subnets":{"default":{"subnet":"10.0.1.0/24","vlan":1001}}}`, `{"a":"b"}`)
	f.Add(uint8(8), "a", `{"subnet":"vpc-1","connection":"c"}`, `{"x":1.5,"fabric.githedgehog.com/y":"z"}`)
	f.Add(uint8(5), "c", `{"eslag":{"links":[{"server":{"port":"s/e"}},{"switch":{"port":7}}]}}`, `{}`)
	f.Add(uint8(9), "p", `{"permit":[{"a":{},"b":{"subnets":[null,1]}}],"n":1e400}`, `{"k":null}`)
	f.Add(uint8(1), "x\n- y: z", `{"ranges":[{"from":1,"to":1e20}]}`, `{"":""}`)
	f.Fuzz(func(t *testing.T, k uint8, name, spec, labels string) {
		kinds := kind.CRs()
		o := Object{Kind: kinds[int(k)%len(kinds)], ID: int64(k), Name: name}
		if json.Unmarshal([]byte(spec), &o.Spec) != nil || json.Unmarshal([]byte(labels), &o.Labels) != nil {
			return
		}
		o.Annotations = o.Labels
		if utf8.ValidString(name) {
			var m struct {
				Fabric struct {
					Name string `json:"name"`
				} `json:"fabric"`
			}
			require.NoError(t, yaml.Unmarshal(Manifest(Fabric{Name: name}), &m))
			require.Equal(t, name, m.Fabric.Name, "manifest fabric name")
		}
		set := NewSet(o)
		_ = Validate(o, set)
		_ = set.Dependents(o.Kind, o.Name)
		_, _ = Path("root", o)
		out, err := Render(testFabric, o)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		again, err := Render(testFabric, o)
		require.NoError(t, err)
		require.Equal(t, out, again)
		head, body, ok := strings.Cut(string(out), "\n")
		require.True(t, ok)
		require.Equal(t, "# "+o.Kind.Name+": "+name, head)
		var doc struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec json.RawMessage `json:"spec"`
		}
		require.NoError(t, yaml.Unmarshal([]byte(body), &doc, useNumber))
		require.Equal(t, o.Kind.Name, doc.Kind)
		require.Equal(t, name, doc.Metadata.Name)
		n, err := Normalize(o)
		require.NoError(t, err)
		if !hugeNumber(n.Spec) {
			want, err := json.Marshal(n.Spec)
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(doc.Spec), "the spec reads back as normalised")
		}
	})
}

// FuzzPath: Path either refuses or returns a clean file two levels below
// <root>/managed/.
func FuzzPath(f *testing.F) {
	for _, s := range [][3]string{{"", "vpc-1", ""}, {"/a/b/", "..", "default"}, {"a/../..", "x", "y"},
		{"r", "a/b", ""}, {"r", `a\b`, ""}, {".git", "x", ""}, {"r", "x", "../.."}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, root, name, ns string) {
		o := Object{Kind: kind.CRs()[len(name)%12], Name: name, Namespace: ns}
		got, err := Path(root, o)
		if err != nil {
			return
		}
		dir, err := ManagedDir(root)
		require.NoError(t, err)
		require.Equal(t, path.Clean(got), got)
		require.False(t, path.IsAbs(got), got)
		rest, ok := strings.CutPrefix(got, strings.TrimPrefix(dir+"/", "/"))
		require.True(t, ok, "%q is not under %q", got, dir)
		require.Equal(t, o.Kind.Plural, path.Dir(rest))
		require.True(t, strings.HasSuffix(rest, ".yaml"))
		for _, e := range strings.Split(got, "/") {
			require.NotEqual(t, "..", e)
			require.NotContains(t, e, `\`)
		}
		require.NotContains(t, path.Base(got), "/")
	})
}

func useNumber(d *json.Decoder) *json.Decoder { d.UseNumber(); return d }

// hugeNumber reports a number beyond float64 in v: YAML writes it as text.
func hugeNumber(v any) bool {
	switch t := v.(type) {
	case json.Number:
		return true
	case map[string]any:
		for _, e := range t {
			if hugeNumber(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hugeNumber(e) {
				return true
			}
		}
	}
	return false
}
