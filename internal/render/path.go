package render

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// ErrRoot is wrapped by errors about a fabric's gitops directory.
var ErrRoot = errors.New("render: invalid gitops directory")

// Path returns the slash-separated, repository-relative file of o's CR:
// <root>/managed/<plural>/<name>.yaml, or <namespace>-<name>.yaml outside
// the default namespace (DESIGN.md §5). root is the fabric's gitops
// directory; leading and trailing slashes do not matter.
//
// A name or namespace that could leave that directory is refused, never
// rewritten: only lowercase RFC 1123 names are accepted, and the file name
// must fit in 255 bytes (so names of 251 to 253 characters, valid in
// Kubernetes, cannot be written).
func Path(root string, o Object) (string, error) {
	r, err := CleanRoot(root)
	if err != nil {
		return "", err
	}
	file, p := fileName(o)
	if p != nil {
		return "", fmt.Errorf("render: %w", p)
	}
	k, _ := crKind(o.Kind)
	return path.Join(r, "managed", k.Plural, file), nil
}

// ManagedDir returns <root>/managed, the only directory the sidecar owns.
func ManagedDir(root string) (string, error) {
	r, err := CleanRoot(root)
	if err != nil {
		return "", err
	}
	return path.Join(r, "managed"), nil
}

// ManifestPath returns <root>/.hnp/manifest.yaml.
func ManifestPath(root string) (string, error) {
	r, err := CleanRoot(root)
	if err != nil {
		return "", err
	}
	return path.Join(r, ".hnp", "manifest.yaml"), nil
}

// CleanRoot turns a fabric's gitops directory into a clean relative path
// ("" for the repository's top). It refuses directories that leave the
// repository ("..") or enter .git, and backslashes or control characters.
func CleanRoot(root string) (string, error) {
	for _, c := range root {
		if c == '\\' || c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("%w %q: contains a backslash or a control character", ErrRoot, root)
		}
	}
	r := path.Clean(strings.Trim(root, "/"))
	if r == "." {
		return "", nil
	}
	for _, e := range strings.Split(r, "/") {
		if e == ".." {
			return "", fmt.Errorf("%w %q: leaves the repository", ErrRoot, root)
		}
		if strings.EqualFold(e, ".git") {
			return "", fmt.Errorf("%w %q: is inside .git", ErrRoot, root)
		}
	}
	return r, nil
}

// fileName is o's file name inside managed/<plural>/, or why there is none.
func fileName(o Object) (string, *Problem) {
	if _, ok := crKind(o.Kind); !ok {
		return "", &Problem{Object: o.Ref(), Field: "kind", Reason: fmt.Sprintf("%q is not a Hedgehog CR kind", o.Kind.Name)}
	}
	if p := nameProblem(o.Name); p != "" {
		return "", &Problem{Object: o.Ref(), Field: "metadata.name", Reason: p}
	}
	file := o.Name
	if ns := o.Namespace; ns != "" && ns != DefaultNamespace {
		if !isLabel(ns) {
			return "", &Problem{Object: o.Ref(), Field: "metadata.namespace", Reason: fmt.Sprintf("%q is not a lowercase RFC 1123 label", ns)}
		}
		file = ns + "-" + file
	}
	file += yamlExtension
	if len(file) > maxFileName {
		return "", &Problem{Object: o.Ref(), Field: "metadata.name",
			Reason: fmt.Sprintf("is too long for a file name (%s is %d bytes, at most %d)", "<name>"+yamlExtension, len(file), maxFileName)}
	}
	return file, nil
}
