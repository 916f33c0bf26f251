package render

import (
	"fmt"
	"strings"
)

// maxAnnotationBytes is the API server's limit on all annotations together.
const maxAnnotationBytes = 256 << 10

// Validate checks o against the fabric's admission rules (DESIGN.md §6)
// after normalisation, and, when desired is not nil, checks that every
// object o refers to is in desired. It returns nil for a valid object;
// otherwise one *Problem per reason, in a stable order, each wrapping
// ErrInvalid (and ErrMissingRef for a missing reference).
//
// Checked, besides the references (see Set):
//   - metadata.name: a lowercase RFC 1123 name of at most 253 characters
//     that fits a file name; at most 11 for VPC, IPv4Namespace, External.
//   - metadata.namespace: "default".
//   - metadata.labels and annotations: values are text (strings, numbers or
//     booleans), keys and label values are valid Kubernetes ones (the API
//     server rejects others, and Argo CD would stall). Labels containing
//     "fabric.githedgehog.com/" are not an error: Render drops them.
//   - spec, per kind: see the checks in validate_*.go.
func Validate(o Object, desired *Set) []error {
	n, err := Normalize(o)
	if err != nil {
		return []error{err}
	}
	c := &checker{obj: n.Ref()}
	c.meta(n)
	switch n.Kind.Name {
	case "VPC":
		c.vpc(n.Spec)
	case "IPv4Namespace":
		c.ipv4Namespace(n.Spec)
	case "VLANNamespace":
		c.vlanNamespace(n.Spec)
	case "VPCAttachment":
		c.attachment(n.Spec)
	case "VPCPeering":
		c.peering(n.Spec)
	case "Connection":
		c.connection(n.Spec)
	case "Switch":
		c.switchSpec(n.Spec)
	}
	if desired != nil {
		c.references(n, desired)
	}
	return c.probs
}

// checker collects the problems of one object.
type checker struct {
	obj   ObjectRef
	probs []error
}

func (c *checker) add(field, format string, args ...any) {
	c.probs = append(c.probs, &Problem{Object: c.obj, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (c *checker) meta(o Object) {
	if _, p := fileName(o); p != nil {
		c.probs = append(c.probs, p)
	} else if shortNameKind(o.Kind.Name) && len(o.Name) > maxShortName {
		c.add("metadata.name", "%q is %d characters long; %s names are at most %d", o.Name, len(o.Name), o.Kind.Name, maxShortName)
	}
	if o.Namespace != DefaultNamespace {
		c.add("metadata.namespace", "is %q, the fabric only accepts %q", o.Namespace, DefaultNamespace)
	}
	labels, probs := stringMap(o, "metadata.labels", o.Labels)
	ann, more := stringMap(o, "metadata.annotations", o.Annotations)
	for _, p := range append(probs, more...) {
		c.probs = append(c.probs, p)
	}
	for _, k := range sortedKeys(labels) {
		if strings.Contains(k, fabricLabelMark) {
			continue // dropped by Render, never emitted
		}
		if p := keyProblem(k); p != "" {
			c.add("metadata.labels", "%s", p)
		} else if p := labelValueProblem(labels[k]); p != "" {
			c.add("metadata.labels."+k, "%s", p)
		}
	}
	size := 0
	for _, k := range sortedKeys(ann) {
		size += len(k) + len(ann[k])
		if p := keyProblem(k); p != "" {
			c.add("metadata.annotations", "%s", p)
		}
	}
	if size > maxAnnotationBytes {
		c.add("metadata.annotations", "total %d bytes, at most %d are allowed", size, maxAnnotationBytes)
	}
}
