package drift

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Difference is one field where the live CR differs from Git.
type Difference struct {
	// Path is the field, e.g. spec.subnets.default.vlan.
	Path string `json:"path"`
	// Git and Live are the two values; nil when the field is absent there.
	Git  any `json:"git,omitempty"`
	Live any `json:"live,omitempty"`
}

func (d Difference) String() string {
	switch {
	case d.Git == nil:
		return fmt.Sprintf("%s: only in the cluster (%s)", d.Path, short(d.Live))
	case d.Live == nil:
		return fmt.Sprintf("%s: missing in the cluster (git %s)", d.Path, short(d.Git))
	}
	return fmt.Sprintf("%s: git %s, live %s", d.Path, short(d.Git), short(d.Live))
}

// short renders a value for a reason, capped.
func short(v any) string {
	s := fmt.Sprintf("%v", v)
	if b, ok := v.(string); ok {
		s = strconv.Quote(b)
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// Summary is a reason for a drifted record: the first max differences.
func Summary(diffs []Difference, max int) string {
	parts := make([]string, 0, max+1)
	for i, d := range diffs {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(diffs)-max))
			break
		}
		parts = append(parts, d.String())
	}
	return "live CR differs from Git: " + strings.Join(parts, "; ")
}

// Diff compares git and live field by field after Normalize, sorted by
// path. Lists are compared as a whole value.
func Diff(path string, git, live any) []Difference {
	var out []Difference
	diff(path, Normalize(git), Normalize(live), &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func diff(path string, g, l any, out *[]Difference) {
	gm, gok := g.(map[string]any)
	lm, lok := l.(map[string]any)
	// Descend into a map the other side lacks, so each field is named.
	if gok && l == nil {
		lm, lok = map[string]any{}, true
	}
	if lok && g == nil {
		gm, gok = map[string]any{}, true
	}
	if gok && lok {
		for k, gv := range gm {
			diff(path+"."+k, gv, lm[k], out)
		}
		for k, lv := range lm {
			if _, ok := gm[k]; !ok {
				diff(path+"."+k, nil, lv, out)
			}
		}
		return
	}
	if !reflect.DeepEqual(g, l) {
		*out = append(*out, Difference{Path: path, Git: g, Live: l})
	}
}

// Normalize makes two renderings of the same object equal: nulls, empty
// maps and empty lists are dropped (the API server and YAML disagree on
// them), and every number becomes a float64 (YAML ints, JSON floats).
func Normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if n := Normalize(e); n != nil {
				out[k] = n
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(t) == 0 {
			return nil
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = Normalize(e)
		}
		return out
	case int:
		return float64(t)
	case int32:
		return float64(t)
	case int64:
		return float64(t)
	case uint64:
		return float64(t)
	case float32:
		return float64(t)
	}
	return v
}
