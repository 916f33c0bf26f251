package cluster

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ErrServerRefused: a fabric's kubernetes_server is not a server the
// sidecar may reach (not https, not a plain server URL, or not in
// HNP_CLUSTER_ALLOWED_SERVERS). It is the fabric's configuration to fix.
var ErrServerRefused = errors.New("cluster: kubernetes_server refused")

// CheckServer checks a server URL from NetBox: https, a host, nothing but
// an optional "/" after it, no user information; and, when allowed is not
// empty, its host:port or host listed there.
func CheckServer(server string, allowed []string) error {
	u, err := url.Parse(server)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %q is not a URL", ErrServerRefused, server)
	case u.Scheme != "https":
		return fmt.Errorf("%w: %q: only https:// (the fabric's token goes there)", ErrServerRefused, server)
	case u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%w: %q: give https://host[:port] only", ErrServerRefused, server)
	}
	if len(allowed) == 0 {
		return nil
	}
	host := strings.ToLower(u.Host)
	if slices.ContainsFunc(allowed, func(a string) bool {
		a = strings.ToLower(strings.TrimSpace(a))
		return a == host || (!strings.Contains(a, ":") && a == strings.ToLower(u.Hostname()))
	}) {
		return nil
	}
	return fmt.Errorf("%w: %s is not in HNP_CLUSTER_ALLOWED_SERVERS", ErrServerRefused, u.Host)
}
