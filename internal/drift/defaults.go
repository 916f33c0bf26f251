package drift

// ApplyDefaults fills obj the way the API server defaults a custom
// resource from its structural schema: a property absent from an object
// that is present gets the schema's default (recursively through
// properties, items and additionalProperties). Desired objects from Git
// are defaulted before they are compared with live ones, so a default the
// API server added is not drift.
func ApplyDefaults(obj any, schema map[string]any) any {
	if schema == nil {
		return obj
	}
	switch t := obj.(type) {
	case map[string]any:
		if props, ok := schema["properties"].(map[string]any); ok {
			for name, ps := range props {
				p, _ := ps.(map[string]any)
				if p == nil {
					continue
				}
				if v, has := t[name]; has {
					t[name] = ApplyDefaults(v, p)
				} else if d, ok := p["default"]; ok {
					t[name] = ApplyDefaults(deepCopy(d), p)
				}
			}
		}
		if ap, ok := schema["additionalProperties"].(map[string]any); ok {
			props, _ := schema["properties"].(map[string]any)
			for name, v := range t {
				if _, named := props[name]; !named {
					t[name] = ApplyDefaults(v, ap)
				}
			}
		}
		return t
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range t {
				t[i] = ApplyDefaults(e, items)
			}
		}
		return t
	}
	return obj
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
