package argocd

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ProjectGVR is Argo CD's AppProject resource.
var ProjectGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"}

// DefaultProject is the AppProject the sidecar creates and puts every
// Application in (HNP_ARGOCD_PROJECT).
const DefaultProject = "hnp-sidecar"

// HedgehogGroups are the API groups of the Hedgehog CRDs: the only kinds
// the sidecar's AppProject lets an Application create.
var HedgehogGroups = []string{"agent.githedgehog.com", "vpc.githedgehog.com", "wiring.githedgehog.com"}

// Destination is a cluster and namespace Applications may deploy to.
type Destination struct{ Server, Namespace string }

// Project is the AppProject the sidecar keeps for its Applications: they
// may read only SourceRepos, deploy only to Destinations, only namespaced
// kinds of Groups, and no cluster-scoped kind at all.
type Project struct {
	Name, Namespace string
	// SourceRepos are Argo CD source patterns (URLs, "https://host/*").
	SourceRepos  []string
	Destinations []Destination
	// Groups are the API groups allowed (HedgehogGroups when empty).
	Groups []string
}

// SourcePatterns are the AppProject source patterns for the Git access
// policy's allow-list (HNP_GIT_ALLOWED_URLS): a URL prefix admits itself,
// itself with .git and everything under it; a bare host (host or
// host:port) admits every repository on it over https and ssh, and over
// http when allowHTTP. Argo CD matches sourceRepos with "/" as separator
// ("*" stays within one path segment, "**" crosses them) after
// normalizing both sides with url.Parse, which escapes a "*" in the user
// part: so ssh URLs are admitted without a user and with the user "git"
// (ssh://git@host/..., scp-like git@host:... and host:...), never with a
// user wildcard. Another ssh user is refused by Argo CD.
func SourcePatterns(allowed []string, allowHTTP bool) []string {
	var out []string
	for _, a := range allowed {
		if u, err := url.Parse(a); err == nil && u.Scheme != "" && u.Host != "" {
			u.User = nil
			p := strings.TrimSuffix(u.String(), "/")
			out = append(out, under(p)...)
			if u.Scheme == "ssh" {
				rest := strings.TrimPrefix(p, "ssh://")
				out = append(out, under("ssh://git@"+rest)...)
				if u.Port() == "" {
					scp := u.Host + ":" + strings.TrimPrefix(u.Path, "/")
					out = append(out, under(strings.TrimSuffix(scp, "/"))...)
					out = append(out, under("git@"+strings.TrimSuffix(scp, "/"))...)
				}
			}
			continue
		}
		out = append(out, "https://"+a+"/**", "ssh://"+a+"/**", "ssh://git@"+a+"/**")
		if host, _, err := net.SplitHostPort(a); err != nil || host == "" {
			out = append(out, a+":**", "git@"+a+":**") // scp-like has no port
		}
		if allowHTTP {
			out = append(out, "http://"+a+"/**")
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// under is a prefix's patterns: itself, itself with .git, what is under it.
func under(p string) []string {
	return []string{p, strings.TrimSuffix(p, ".git") + ".git", p + "/**"}
}

// HostPattern is the source pattern of every repository on the host of
// the Git URL u ("scheme://host/**"); "" when u is not a URL with a host.
func HostPattern(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || p.Host == "" {
		return ""
	}
	return fmt.Sprintf("%s://%s/**", p.Scheme, p.Host)
}

// spec is the AppProject's spec as a JSON value.
func (p Project) spec() map[string]any {
	groups := p.Groups
	if len(groups) == 0 {
		groups = HedgehogGroups
	}
	repos := make([]any, 0, len(p.SourceRepos))
	for _, r := range p.SourceRepos {
		repos = append(repos, r)
	}
	dests := make([]any, 0, len(p.Destinations))
	for _, d := range p.Destinations {
		dests = append(dests, map[string]any{"server": d.Server, "namespace": d.Namespace})
	}
	kinds := make([]any, 0, len(groups))
	for _, g := range groups {
		kinds = append(kinds, map[string]any{"group": g, "kind": "*"})
	}
	return map[string]any{
		"description":                "hnp-sidecar: the fabrics' Applications (Hedgehog kinds only); managed by the sidecar",
		"sourceRepos":                repos,
		"destinations":               dests,
		"clusterResourceWhitelist":   []any{},
		"namespaceResourceWhitelist": kinds,
	}
}

// Object is the AppProject as a Kubernetes object.
func (p Project) Object() map[string]any {
	return map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "AppProject",
		"metadata": map[string]any{"name": p.Name, "namespace": p.Namespace,
			"labels": map[string]any{LabelManagedBy: ManagedBy}},
		"spec": p.spec(),
	}
}

// projectOwned checks an existing AppProject's labels.
func projectOwned(ns, name string, labels map[string]string) error {
	if ours(labels) {
		return nil
	}
	return fmt.Errorf("%w: %s/%s has no label %s=%s; it is left untouched (set HNP_ARGOCD_PROJECT to another name, "+
		"or label it so to hand it over)", ErrForeignProject, ns, name, LabelManagedBy, ManagedBy)
}
