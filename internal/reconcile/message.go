package reconcile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/gitops"
	"github.com/githedgehog/hnp-sidecar/internal/queue"
)

// message says what a reconcile was for and traces it back to NetBox:
// the subject names the change that triggered it, trailers name every
// object, user and request behind it (DESIGN.md §5).
func message(fabric string, objects int, hints []queue.Hint) string {
	if len(hints) == 0 {
		return fmt.Sprintf("Reconcile fabric %s: %d objects\n\nFull reconcile from NetBox.\n", fabric, objects)
	}
	last := hints[len(hints)-1]
	subject := fmt.Sprintf("%s %s %d (%s)", verb(last.Event), last.Kind, last.ObjectID, fabric)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nReconciled from NetBox: %d objects in the fabric.\n\n", subject, objects)
	for _, t := range []struct {
		name string
		vals func(queue.Hint) string
	}{
		{"NetBox-Object", func(h queue.Hint) string { return fmt.Sprintf("%s/%d", h.ObjectType, h.ObjectID) }},
		{"NetBox-User", func(h queue.Hint) string { return h.User }},
		{"NetBox-Request-Id", func(h queue.Hint) string { return h.RequestID }},
	} {
		seen := map[string]bool{}
		for _, h := range hints {
			if v := t.vals(h); v != "" && !seen[v] {
				seen[v] = true
			}
		}
		keys := make([]string, 0, len(seen))
		for v := range seen {
			keys = append(keys, v)
		}
		sort.Strings(keys)
		for _, v := range keys {
			fmt.Fprintf(&b, "%s: %s\n", t.name, v)
		}
	}
	return b.String()
}

func verb(event string) string {
	switch event {
	case "created":
		return "Create"
	case "deleted":
		return "Delete"
	}
	return "Update"
}

// author is the NetBox user behind the newest hint, where known.
func author(hints []queue.Hint) gitops.Signature {
	for i := len(hints) - 1; i >= 0; i-- {
		if u := hints[i].User; u != "" {
			return gitops.Signature{Name: u, Email: u + "@netbox"}
		}
	}
	return gitops.Signature{}
}
