// Package render turns NetBox plugin objects into Hedgehog CR files for Git
// and checks them against the fabric's admission rules (DESIGN.md §5–§6).
// It is pure: no I/O, no logging, no clock. The same object always renders
// to the same bytes.
//
// The expected use is Validate (with the fabric's desired Set), then Render
// and Path for valid objects only. Render refuses only what it cannot write
// safely (a bad name, label values that are not text); it does not repeat
// the admission checks.
package render

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v2"
)

// Render returns the content of o's CR file: a "# <Kind>: <name>" comment,
// then one YAML document with apiVersion, kind, metadata and spec, every
// map's keys sorted. Labels owned by the fabric (containing
// "fabric.githedgehog.com/") are dropped; the hnp.githedgehog.com/*
// annotations and the Argo CD sync wave are added and win over user
// annotations of the same key. Empty labels are omitted.
func Render(f Fabric, o Object) ([]byte, error) {
	n, err := Normalize(o)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	if _, p := fileName(n); p != nil {
		return nil, fmt.Errorf("render: %w", p)
	}
	meta, probs := metadata(f, n)
	if len(probs) > 0 {
		return nil, fmt.Errorf("render: %w", probs[0])
	}
	doc := map[string]any{
		"apiVersion": n.Kind.APIVersion,
		"kind":       n.Kind.Name,
		"metadata":   meta,
		"spec":       n.Spec,
	}
	// The YAML encoder sigs.k8s.io/yaml (and so kubectl) uses, called
	// directly: sigs.k8s.io/yaml.Marshal re-reads its JSON as YAML, which
	// fails on some valid strings (DEL, C1 controls, keys over 1024
	// characters) that the encoder itself escapes fine.
	body, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("render: %s: %w", n.Ref(), err)
	}
	head := "# " + n.Kind.Name + ": " + n.Name + "\n"
	return append([]byte(head), body...), nil
}

// Manifest returns the content of <root>/.hnp/manifest.yaml for f.
func Manifest(f Fabric) []byte {
	// strconv.Quote's escapes are all valid in a YAML double-quoted scalar.
	return []byte("# Written by " + Generator + ". Files under managed/ are rewritten from NetBox;\n" +
		"# put hand-written manifests under raw/ or unmanaged/.\n" +
		"fabric:\n" +
		"  id: " + strconv.FormatInt(f.ID, 10) + "\n" +
		"  name: " + strconv.Quote(f.Name) + "\n" +
		"generator: " + Generator + "\n" +
		"layoutVersion: " + strconv.Itoa(LayoutVersion) + "\n")
}

// metadata builds the CR's metadata of a normalised object.
func metadata(f Fabric, o Object) (map[string]any, []*Problem) {
	labels, probs := stringMap(o, "metadata.labels", o.Labels)
	ann, more := stringMap(o, "metadata.annotations", o.Annotations)
	if probs = append(probs, more...); len(probs) > 0 {
		return nil, probs
	}
	for k := range labels {
		if strings.Contains(k, fabricLabelMark) {
			delete(labels, k)
		}
	}
	ann[AnnotationManagedBy] = Generator
	ann[AnnotationFabric] = strings.ToValidUTF8(f.Name, "\uFFFD")
	ann[AnnotationNetBoxObject] = fmt.Sprintf("%s/%d", o.Kind.ObjectType(), o.ID)
	ann[AnnotationSyncWave] = strconv.Itoa(o.Kind.SyncWave)
	meta := map[string]any{"name": o.Name, "namespace": o.Namespace, "annotations": ann}
	if len(labels) > 0 {
		meta["labels"] = labels
	}
	return meta, nil
}

// stringMap turns a NetBox JSONField into Kubernetes string values.
func stringMap(o Object, field string, m map[string]any) (map[string]string, []*Problem) {
	out := make(map[string]string, len(m))
	var probs []*Problem
	for _, k := range sortedKeys(m) {
		s, ok := text(m[k])
		if !ok {
			probs = append(probs, &Problem{Object: o.Ref(), Field: field + "." + k,
				Reason: fmt.Sprintf("must be a string, number or boolean, got %s", typeName(m[k]))})
			continue
		}
		out[strings.ToValidUTF8(k, "\uFFFD")] = strings.ToValidUTF8(s, "\uFFFD")
	}
	return out, probs
}

// text is the string form of a scalar JSON value.
func text(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case json.Number:
		if n, ok := number(t).(json.Number); ok {
			return string(n), true // beyond float64: keep the JSON text
		}
		return text(number(t))
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return "", false
		}
		if t == math.Trunc(t) && math.Abs(t) < 1<<63 {
			return strconv.FormatInt(int64(t), 10), true
		}
		return strconv.FormatFloat(t, 'g', -1, 64), true
	case float32:
		return text(float64(t))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(t), true
	}
	return "", false
}
