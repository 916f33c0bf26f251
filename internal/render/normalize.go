package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Normalize returns a copy of o in the form the fabric stores it, so that
// what we write to Git equals what Argo CD later reads back from the cluster
// and shows no permanent drift. o itself is not modified. The normalisations:
//
//   - Kind: replaced by the kind table's entry of the same name.
//   - Namespace: empty becomes "default" (NetBox's default for the field).
//   - Spec: deep-copied through JSON, so any Go value NetBox decoding or a
//     test produced has one shape (map[string]any, []any, string, bool,
//     int64, float64). Integral numbers become int64: JSON decoding yields
//     float64 and 1002 must be written as 1002, never 1002.0 or 1.002e+03.
//   - Spec: object fields whose value is null are dropped. None of the
//     Hedgehog CRDs marks a field nullable, and the API server prunes nulls
//     of non-nullable fields, so the live object never has them.
//   - VPC: empty ipv4Namespace, vlanNamespace and subnets.*.gateway are
//     dropped. The fabric's defaulting fills them ("default", "default" and
//     the subnet's first address, as the CRD field docs say); an empty
//     string in Git would differ from the live value forever, an absent
//     field does not.
//   - VPCAttachment: a bare "<vpc>" in subnet becomes "<vpc>/default", as the
//     fabric's defaulting rewrites it (DESIGN.md §6).
//
// Nothing else is defaulted: values the fabric may fill in but whose
// defaults the CRDs do not document are left for the fabric.
func Normalize(o Object) (Object, error) {
	k, ok := crKind(o.Kind)
	if !ok {
		return o, &Problem{Object: o.Ref(), Field: "kind", Reason: fmt.Sprintf("%q is not a Hedgehog CR kind", o.Kind.Name)}
	}
	spec, err := canonical(o.Spec)
	if err != nil {
		return o, &Problem{Object: o.Ref(), Field: "spec", Reason: "cannot be encoded as JSON: " + err.Error()}
	}
	o.Kind, o.Spec = k, spec
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	switch k.Name {
	case "VPC":
		dropEmpty(spec, "ipv4Namespace", "vlanNamespace")
		if subnets, ok := spec["subnets"].(map[string]any); ok {
			for _, s := range subnets {
				if m, ok := s.(map[string]any); ok {
					dropEmpty(m, "gateway")
				}
			}
		}
	case "VPCAttachment":
		if s, ok := spec["subnet"].(string); ok && s != "" && !strings.Contains(s, "/") {
			spec["subnet"] = s + "/default"
		}
	}
	return o, nil
}

// canonical deep-copies spec through JSON and cleans it (see Normalize).
func canonical(spec map[string]any) (map[string]any, error) {
	if spec == nil {
		return map[string]any{}, nil
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out map[string]any
	if err := d.Decode(&out); err != nil {
		return nil, err
	}
	if out == nil {
		return map[string]any{}, nil
	}
	return clean(out).(map[string]any), nil
}

// clean drops null object fields and turns numbers into int64 or float64,
// in place.
func clean(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
				continue
			}
			t[k] = clean(e)
		}
	case []any:
		for i, e := range t {
			t[i] = clean(e)
		}
	case json.Number:
		return number(t)
	}
	return v
}

// number is an int64 when n is integral and fits, else a float64; a number
// beyond float64's range keeps its JSON text.
func number(n json.Number) any {
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, err := n.Float64()
	if err != nil {
		return n
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return int64(f)
	}
	return f
}

func dropEmpty(m map[string]any, keys ...string) {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s == "" {
			delete(m, k)
		}
	}
}
