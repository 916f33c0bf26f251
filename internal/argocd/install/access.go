package install

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	"github.com/githedgehog/hnp-sidecar/internal/panics"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
)

// Permission is one thing the installation does in the cluster.
type Permission struct {
	Verb, Group, Resource string
	// Namespace is "" for cluster-scoped resources.
	Namespace string
}

func (p Permission) resource() string {
	if p.Group == "" {
		return p.Resource
	}
	return p.Resource + "." + p.Group
}

// ForbiddenError lists the permissions the credentials lack. It is
// ErrForbidden.
type ForbiddenError struct {
	Missing []Permission
}

// Error lists the missing permissions by resource, e.g. "missing
// permissions: create, patch customresourcedefinitions.apiextensions.k8s.io;
// create deployments.apps in namespace argocd".
func (e *ForbiddenError) Error() string {
	type key struct{ resource, namespace string }
	var order []key
	verbs := map[key][]string{}
	for _, p := range e.Missing {
		k := key{p.resource(), p.Namespace}
		if _, ok := verbs[k]; !ok {
			order = append(order, k)
		}
		verbs[k] = append(verbs[k], p.Verb)
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		s := strings.Join(verbs[k], ", ") + " " + k.resource
		if k.namespace != "" {
			s += " in namespace " + k.namespace
		}
		parts = append(parts, s)
	}
	return ErrForbidden.Error() + ": " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// reachable asks the API server's /version.
func (in *Installer) reachable(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	raw, err := in.cs.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	switch {
	case apierrors.IsUnauthorized(err):
		return "", fmt.Errorf("%w: %s refused the credentials (401 Unauthorized)", ErrForbidden, in.host)
	case err != nil:
		return "", fmt.Errorf("%w: %s: %v", ErrUnreachable, in.host, err)
	}
	var v version.Info
	if err := json.Unmarshal(raw, &v); err != nil || v.GitVersion == "" {
		return "", fmt.Errorf("%w: %s/version did not answer like a Kubernetes API server", ErrUnreachable, in.host)
	}
	return v.GitVersion, nil
}

// permissions is what applying the plan and the request needs: get,
// create and patch (server-side apply) of every object; escalate and bind
// of roles, since the manifest's roles grant rights (the application
// controller's ClusterRole grants all); list of the workloads; get,
// create and update of the repository Secret and the Application.
func (in *Installer) permissions(p *plan, req Request) []Permission {
	var out []Permission
	add := func(verbs []string, group, resource, ns string) {
		for _, v := range verbs {
			perm := Permission{Verb: v, Group: group, Resource: resource, Namespace: ns}
			if !slices.Contains(out, perm) {
				out = append(out, perm)
			}
		}
	}
	apply := []string{"get", "create", "patch"}
	ns := in.opts.Namespace
	for _, it := range append(append([]item{p.namespace}, p.crds...), p.objects...) {
		add(apply, it.gvr.Group, it.gvr.Resource, it.obj.GetNamespace())
		switch it.gvr.GroupResource().String() {
		case "clusterroles.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io":
			add([]string{"escalate", "bind"}, "rbac.authorization.k8s.io", "clusterroles", "")
		case "roles.rbac.authorization.k8s.io", "rolebindings.rbac.authorization.k8s.io":
			add([]string{"escalate", "bind"}, "rbac.authorization.k8s.io", "roles", ns)
		}
	}
	for _, w := range p.workloads() {
		add([]string{"list"}, w.gvr.Group, w.gvr.Resource, ns)
	}
	if req.App != nil {
		// The Kubernetes driver reads what exists (whose it is) and
		// creates or updates it conditionally (internal/argocd/ensure.go).
		ensure := []string{"get", "create", "update"}
		if req.Repo.URL != "" {
			add(ensure, "", "secrets", req.App.Namespace)
		}
		add(ensure, argocd.ApplicationGVR.Group, argocd.ApplicationGVR.Resource, req.App.Namespace)
		if req.Project != nil {
			add(ensure, argocd.ProjectGVR.Group, argocd.ProjectGVR.Resource, req.Project.Namespace)
		}
	}
	return out
}

// review asks the API server whether the credentials may do p. A panic
// (a malformed answer) is its error: every index must get an answer.
func (in *Installer) review(ctx context.Context, p Permission) (allowed bool, err error) {
	defer panics.Capture("argocd.install.access", &err)
	r, err := in.cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: p.Namespace, Verb: p.Verb, Group: p.Group, Resource: p.Resource}},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return r.Status.Allowed, nil
}

// checkAccess asks the API server, one SelfSubjectAccessReview each (8 at
// a time), whether the credentials may do perms; a *ForbiddenError lists
// those they may not.
func (in *Installer) checkAccess(ctx context.Context, perms []Permission, progress func(done, total int)) error {
	type answer struct {
		i       int
		allowed bool
		err     error
	}
	work := make(chan int)
	answers := make(chan answer)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(8, len(perms)) {
		go func() {
			for i := range work {
				a := answer{i: i}
				a.allowed, a.err = in.review(ctx, perms[i])
				answers <- a
			}
		}()
	}
	go func() { // every index is handed out: after cancel the reviews fail fast, so every answer comes
		defer close(work)
		for i := range perms {
			work <- i
		}
	}()
	denied := make([]bool, len(perms))
	var firstErr error
	for done := 1; done <= len(perms); done++ {
		a := <-answers
		if a.err != nil && firstErr == nil {
			firstErr = a.err
			cancel() // the rest fail fast; keep draining
		}
		denied[a.i] = a.err == nil && !a.allowed
		progress(done, len(perms))
	}
	if firstErr != nil {
		return fmt.Errorf("argocd install: access review: %w", firstErr)
	}
	var missing []Permission
	for i, d := range denied {
		if d {
			missing = append(missing, perms[i])
		}
	}
	if len(missing) > 0 {
		return &ForbiddenError{Missing: missing}
	}
	in.logger.Debug("argocd install: permissions checked", "reviews", len(perms))
	return nil
}
