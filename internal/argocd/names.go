package argocd

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// DefaultNamePattern is the names a fabric's gitops_app_name may ask for
// when HNP_ARGOCD_APP_NAME_PATTERN is unset: "hnp-…" or "hedgehog-…" (the
// name earlier versions derived), lowercase letters, digits and dashes.
// Anything else is refused, and a name must in any case be a DNS-1123
// label of at most 63 characters.
const DefaultNamePattern = `^(hnp|hedgehog)-[a-z0-9]([-a-z0-9]*[a-z0-9])?$`

// Errors of the naming policy: the fabric's configuration, not Argo CD's.
var (
	// ErrAppName: the fabric's gitops_app_name is refused.
	ErrAppName = errors.New("argocd: application name refused")
	// ErrAppNamespace: the fabric's gitops_namespace is not the one the
	// sidecar manages Applications in.
	ErrAppNamespace = errors.New("argocd: application namespace refused")
	// ErrDestNamespace: the fabric's kubernetes_namespace is not one the
	// sidecar's AppProject allows.
	ErrDestNamespace = errors.New("argocd: destination namespace refused")
)

// Naming decides a fabric's Application name and namespace. NetBox's
// values are untrusted: a name is derived from the fabric unless the one
// asked for matches Pattern, and Applications live only in Namespace.
type Naming struct {
	// Pattern is what gitops_app_name may be; nil: DefaultNamePattern.
	Pattern *regexp.Regexp
	// Namespace is the only namespace of Applications
	// (HNP_ARGOCD_NAMESPACE).
	Namespace string
	// Destinations are the namespaces a fabric may deploy to
	// (HNP_ARGOCD_DESTINATION_NAMESPACES); empty: only the default one.
	Destinations []string
}

// CompileNamePattern compiles an application-name pattern; it must be
// anchored at both ends (^…$), so it cannot accept a name by a part.
func CompileNamePattern(p string) (*regexp.Regexp, error) {
	if !strings.HasPrefix(p, "^") || !strings.HasSuffix(p, "$") {
		return nil, fmt.Errorf("argocd: name pattern %q must be anchored (^…$)", p)
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("argocd: name pattern: %w", err)
	}
	return re, nil
}

// defaultPattern is DefaultNamePattern compiled (read only).
var defaultPattern = regexp.MustCompile(DefaultNamePattern)

func (n Naming) pattern() *regexp.Regexp {
	if n.Pattern != nil {
		return n.Pattern
	}
	return defaultPattern
}

// Name is the Application name of fabric (id, name) that asks for
// requested ("" when it asks for none): requested when the pattern
// accepts it and it is a valid name, else ErrAppName; DerivedName when
// none is asked for.
func (n Naming) Name(id int64, fabric, requested string) (string, error) {
	if requested == "" {
		return DerivedName(id, fabric), nil
	}
	if !n.pattern().MatchString(requested) {
		return "", fmt.Errorf("%w: gitops_app_name %q does not match the allowed pattern %s (HNP_ARGOCD_APP_NAME_PATTERN); "+
			"leave it empty for %q", ErrAppName, requested, n.pattern(), DerivedName(id, fabric))
	}
	if !ValidName(requested) {
		return "", fmt.Errorf("%w: gitops_app_name %q is not a DNS-1123 label of at most 63 characters", ErrAppName, requested)
	}
	return requested, nil
}

// Namespaced is the namespace of the Application a fabric asks for
// (requested "" means Namespace): only Namespace, else ErrAppNamespace.
func (n Naming) Namespaced(requested string) (string, error) {
	if requested == "" || requested == n.Namespace {
		return n.Namespace, nil
	}
	return "", fmt.Errorf("%w: gitops_namespace %q: the sidecar manages Applications only in %q (HNP_ARGOCD_NAMESPACE); "+
		"leave gitops_namespace empty", ErrAppNamespace, requested, n.Namespace)
}

// Destination is the namespace a fabric deploys to: requested, or def
// when requested is ""; ErrDestNamespace when it is not allowed.
func (n Naming) Destination(requested, def string) (string, error) {
	dest := requested
	if dest == "" {
		dest = def
	}
	allowed := n.Destinations
	if len(allowed) == 0 {
		allowed = []string{def}
	}
	if !slices.Contains(allowed, dest) {
		return "", fmt.Errorf("%w: kubernetes_namespace %q is not one of %q (HNP_ARGOCD_DESTINATION_NAMESPACES)", ErrDestNamespace, dest, allowed)
	}
	return dest, nil
}

// DerivedName is a fabric's Application name: "hnp-<id>-<name>" with the
// name lowercased, anything but letters and digits made a dash, and cut so
// the whole is a DNS-1123 label of at most 63 characters. The id keeps it
// unique and stable while the fabric keeps its name.
func DerivedName(id int64, fabric string) string {
	prefix := "hnp-" + strconv.FormatUint(uint64(id), 10) //nolint:gosec // ids are positive; the bits only need to be stable
	var b strings.Builder
	dash := true // no leading dash
	for _, c := range strings.ToLower(fabric) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	rest := b.String()
	if room := 63 - len(prefix) - 1; len(rest) > room {
		rest = rest[:max(room, 0)]
	}
	rest = strings.Trim(rest, "-")
	if rest == "" {
		return prefix
	}
	return prefix + "-" + rest
}

// ValidName reports whether s is a DNS-1123 label of at most 63
// characters: what an Application's name must be here.
func ValidName(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }
