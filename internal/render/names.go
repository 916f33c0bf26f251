package render

import (
	"fmt"
	"strings"
)

// Kubernetes name limits (k8s.io/apimachinery validation).
const (
	maxSubdomain  = 253 // object names, label key prefixes
	maxLabel      = 63  // namespaces, label values, label key names
	maxShortName  = 11  // VPC, IPv4Namespace and External names (DESIGN.md §6)
	maxFileName   = 255 // bytes in one path element on common filesystems
	yamlExtension = ".yaml"
)

// nameProblem says what is wrong with an object name, or "" when it is a
// valid lowercase RFC 1123 subdomain. Such a name never contains "/", "\",
// "..", uppercase or anything that could leave a directory.
func nameProblem(name string) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > maxSubdomain:
		return fmt.Sprintf("is %d characters long, at most %d are allowed", len(name), maxSubdomain)
	case !isSubdomain(name):
		return fmt.Sprintf("%q is not a lowercase RFC 1123 name (a-z, 0-9, '-' and '.', starting and ending with a letter or digit)", name)
	}
	return ""
}

// isSubdomain reports whether s is dot-separated RFC 1123 labels of
// lowercase letters, digits and '-', each starting and ending alphanumeric.
func isSubdomain(s string) bool {
	if s == "" || len(s) > maxSubdomain {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !isLabel(l) {
			return false
		}
	}
	return true
}

// isLabel reports whether s is one RFC 1123 label of at most 63 characters.
func isLabel(s string) bool {
	if s == "" || len(s) > maxLabel {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// keyProblem checks a label or annotation key: an optional DNS subdomain
// prefix and "/", then a name of at most 63 characters.
func keyProblem(key string) string {
	prefix, name, found := strings.Cut(key, "/")
	if !found {
		prefix, name = "", key
	}
	switch {
	case found && !isSubdomain(prefix):
		return fmt.Sprintf("key %q has an invalid prefix (a lowercase DNS name is required before the '/')", key)
	case !isQualifiedPart(name):
		return fmt.Sprintf("key %q is invalid (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)", key)
	}
	return ""
}

// labelValueProblem checks a label value: empty, or like a key's name part.
func labelValueProblem(v string) string {
	if v == "" || isQualifiedPart(v) {
		return ""
	}
	return fmt.Sprintf("value %q is invalid (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)", v)
}

// isQualifiedPart matches ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], ≤ 63.
func isQualifiedPart(s string) bool {
	if s == "" || len(s) > maxLabel {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || i == len(s)-1 || (c != '-' && c != '_' && c != '.')) {
			return false
		}
	}
	return true
}

// shortNameKind reports whether the fabric limits names of kind k to 11
// characters.
func shortNameKind(k string) bool {
	return k == "VPC" || k == "IPv4Namespace" || k == "External"
}
