package render

import (
	"errors"
	"fmt"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// Object is one Hedgehog CR as the NetBox plugin holds it.
type Object struct {
	// Kind is the CR kind. Only its Name is trusted: apiVersion, plural and
	// sync wave always come from the kind table.
	Kind kind.Kind
	// ID is the NetBox object id.
	ID int64
	// Name and Namespace are the CR's; an empty Namespace means "default".
	Name, Namespace string
	// Spec is the plugin's spec JSON, as decoded from NetBox (numbers may be
	// float64 or json.Number; both are fine).
	Spec map[string]any
	// Labels and Annotations are NetBox JSONFields, so values may be any JSON
	// value: strings are used as they are, numbers and booleans are turned
	// into their text, anything else (null, objects, lists) is invalid.
	Labels, Annotations map[string]any
}

// Fabric is the NetBox fabric an object belongs to.
type Fabric struct {
	ID   int64
	Name string
}

// ObjectRef names one object of a fabric.
type ObjectRef struct {
	Kind kind.Kind
	Name string
	// ID is the NetBox id where known (zero for a reference to an object
	// that is not in the set).
	ID int64
}

// String is "VPC vpc-1".
func (r ObjectRef) String() string { return r.Kind.Name + " " + r.Name }

// Ref returns the reference to o.
func (o Object) Ref() ObjectRef { return ObjectRef{Kind: o.Kind, Name: o.Name, ID: o.ID} }

const (
	// DefaultNamespace is the only namespace the fabric accepts.
	DefaultNamespace = "default"
	// Generator names the sidecar in annotations and the manifest.
	Generator = "hnp-sidecar"
	// LayoutVersion is the version of the Git layout of DESIGN.md §5.
	LayoutVersion = 1

	AnnotationManagedBy    = "hnp.githedgehog.com/managed-by"
	AnnotationFabric       = "hnp.githedgehog.com/fabric"
	AnnotationNetBoxObject = "hnp.githedgehog.com/netbox-object"
	AnnotationSyncWave     = "argocd.argoproj.io/sync-wave"

	// fabricLabelMark marks labels the fabric owns and rewrites; they are
	// never emitted (DESIGN.md §6).
	fabricLabelMark = "fabric.githedgehog.com/"
)

var (
	// ErrInvalid is wrapped by every validation error: the fabric's
	// admission would reject the object (or it cannot be written safely).
	ErrInvalid = errors.New("render: invalid object")
	// ErrMissingRef is wrapped, next to ErrInvalid, by errors about a
	// reference to an object that is not in the fabric's desired set: the
	// object may become valid when that one appears.
	ErrMissingRef = errors.New("render: missing reference")
)

// Problem is one reason an object is invalid. Its text is meant for an
// operator: "VPC vpc-1: subnets.default.subnet 10.0.1.0/31 is smaller than /30".
type Problem struct {
	Object ObjectRef
	// Field is the path of the offending field ("subnets.default.vlan",
	// "metadata.name"); empty when the problem is about the whole spec.
	Field string
	// Reason completes the sentence that starts with Field.
	Reason string
	// Missing is the object a reference names but the set lacks.
	Missing *ObjectRef
}

func (p *Problem) Error() string {
	if p.Field == "" {
		return fmt.Sprintf("%s: %s", p.Object, p.Reason)
	}
	return fmt.Sprintf("%s: %s %s", p.Object, p.Field, p.Reason)
}

// Unwrap lets errors.Is find ErrInvalid, and ErrMissingRef where it applies.
func (p *Problem) Unwrap() []error {
	if p.Missing != nil {
		return []error{ErrInvalid, ErrMissingRef}
	}
	return []error{ErrInvalid}
}

// crKind returns the kind table's entry for k's name; only the twelve CR
// kinds are accepted.
func crKind(k kind.Kind) (kind.Kind, bool) {
	for _, c := range kind.CRs() {
		if c.Name == k.Name {
			return c, true
		}
	}
	return kind.Kind{}, false
}

// kindNamed returns the CR kind called name; name is one of the table's.
func kindNamed(name string) kind.Kind {
	k, _ := crKind(kind.Kind{Name: name})
	return k
}
