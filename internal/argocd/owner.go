package argocd

import (
	"errors"
	"fmt"
	"strconv"
)

// Labels that mark what the sidecar created. An object without them (or
// another fabric's) is never changed: the drivers report it instead.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "hnp-sidecar"
	// LabelFabricID is the NetBox id of the fabric an Application is for.
	LabelFabricID = "hnp.githedgehog.com/fabric-id"
)

// Errors of objects that exist but are not the sidecar's: the user's to
// sort out (rename or label them), never taken over.
var (
	ErrForeignApplication = errors.New("argocd: the Application exists and is not this fabric's")
	ErrForeignProject     = errors.New("argocd: the AppProject exists and is not the sidecar's")
	ErrForeignRepository  = errors.New("argocd: the repository exists in Argo CD and is not the sidecar's")
)

// IsForeign reports whether err is one of the foreign-object errors.
func IsForeign(err error) bool {
	return errors.Is(err, ErrForeignApplication) || errors.Is(err, ErrForeignProject) || errors.Is(err, ErrForeignRepository)
}

// fabricLabel is the value of LabelFabricID.
func fabricLabel(id int64) string { return strconv.FormatInt(id, 10) }

// labelsOf reads metadata.labels of an object decoded from JSON.
func labelsOf(obj map[string]any) map[string]string {
	out := map[string]string{}
	m, _ := get(obj, "metadata", "labels").(map[string]any)
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// ours reports whether labels mark an object the sidecar created.
func ours(labels map[string]string) bool { return labels[LabelManagedBy] == ManagedBy }

// ownedBy checks that an existing Application (its labels) is fabric's:
// nil, or ErrForeignApplication saying whose it is and how to hand it
// over.
func ownedBy(ns, name string, labels map[string]string, fabric int64) error {
	switch got := labels[LabelFabricID]; {
	case ours(labels) && got == fabricLabel(fabric):
		return nil
	case ours(labels) && got != "":
		return fmt.Errorf("%w: %s/%s belongs to fabric id %s, not %d; it is left untouched", ErrForeignApplication, ns, name, got, fabric)
	default:
		return fmt.Errorf("%w: %s/%s has no labels %s=%s and %s=%d; it is left untouched (choose another name, or label "+
			"it so to hand it over)", ErrForeignApplication, ns, name, LabelManagedBy, ManagedBy, LabelFabricID, fabric)
	}
}
