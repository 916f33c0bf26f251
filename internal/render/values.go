package render

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// The checker's typed readers of normalised spec values. Each one reports a
// problem for field and returns false when the value is missing (and
// required) or of the wrong type.

func (c *checker) object(field string, v any, required bool) (map[string]any, bool) {
	if v == nil {
		c.required(field, required)
		return nil, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.add(field, "must be an object, got %s", typeName(v))
	}
	return m, ok
}

func (c *checker) list(field string, v any, required bool) ([]any, bool) {
	if v == nil {
		c.required(field, required)
		return nil, false
	}
	l, ok := v.([]any)
	if !ok {
		c.add(field, "must be a list, got %s", typeName(v))
	}
	return l, ok
}

// str reads a non-empty string.
func (c *checker) str(field string, v any, required bool) (string, bool) {
	if v == nil {
		c.required(field, required)
		return "", false
	}
	s, ok := v.(string)
	switch {
	case !ok:
		c.add(field, "must be a string, got %s", typeName(v))
	case s == "":
		c.add(field, "is empty")
		ok = false
	}
	return s, ok
}

// integer reads an integer within [lo, hi]; what names the range in
// messages ("a VLAN").
func (c *checker) integer(field string, v any, lo, hi int64, what string) (int64, bool) {
	if v == nil {
		c.add(field, "is missing (%s %d–%d is required)", what, lo, hi)
		return 0, false
	}
	i, ok := v.(int64)
	switch {
	case !ok:
		c.add(field, "must be an integer, got %s", typeName(v))
	case i < lo || i > hi:
		c.add(field, "%d is outside %d–%d", i, lo, hi)
		ok = false
	}
	return i, ok
}

// prefix reads an IPv4 CIDR of /maxBits or larger.
func (c *checker) prefix(field string, v any, maxBits int) (netip.Prefix, bool) {
	if v == nil {
		c.required(field, true)
		return netip.Prefix{}, false
	}
	s, ok := v.(string)
	if !ok {
		c.add(field, "must be a CIDR string such as 10.0.1.0/24, got %s", typeName(v))
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil || !p.Addr().Is4():
		c.add(field, "%q is not a valid IPv4 CIDR such as 10.0.1.0/24", s)
		return netip.Prefix{}, false
	case p.Bits() > maxBits:
		c.add(field, "%s is smaller than /%d", s, maxBits)
		return netip.Prefix{}, false
	}
	return p, true
}

func (c *checker) required(field string, required bool) {
	if required {
		c.add(field, "is missing")
	}
}

// overlapping returns the index of the first earlier prefix p overlaps, or
// -1.
func overlapping(p netip.Prefix, earlier []netip.Prefix) int {
	for i, q := range earlier {
		if p.Masked().Overlaps(q.Masked()) {
			return i
		}
	}
	return -1
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// typeName names a JSON value's type for messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64, json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// field joins path elements with dots, skipping empty ones.
func field(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), ".")
}
