package install

import (
	"context"
	"fmt"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/argocd"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Outcome is what applying one object did.
type Outcome int

// The outcomes: a server-side apply that changes nothing keeps the
// object's resourceVersion, so a second installation is all Unchanged.
const (
	Unchanged Outcome = iota
	Created
	Changed
)

func (o Outcome) String() string {
	switch o {
	case Created:
		return "created"
	case Changed:
		return "changed"
	}
	return "unchanged"
}

// crdTimeout bounds waiting for the CRDs to be Established (they are in
// milliseconds on a healthy API server).
const crdTimeout = 2 * time.Minute

func (in *Installer) resource(gvr schema.GroupVersionResource, ns string) dynamic.ResourceInterface {
	if ns == "" {
		return in.dyn.Resource(gvr)
	}
	return in.dyn.Resource(gvr).Namespace(ns)
}

// resourceVersion is the object's resourceVersion, "" when it is absent.
func (in *Installer) resourceVersion(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (string, error) {
	u, err := in.resource(gvr, ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return u.GetResourceVersion(), nil
}

// outcome compares the resourceVersions before ("" absent) and after.
func outcome(before, after string) Outcome {
	switch {
	case before == "":
		return Created
	case before != after:
		return Changed
	}
	return Unchanged
}

// applyOne server-side applies one object (field manager hnp-sidecar,
// taking over fields others own, as kubectl apply --server-side
// --force-conflicts does).
func (in *Installer) applyOne(ctx context.Context, it item) (Outcome, error) {
	ns, name := it.obj.GetNamespace(), it.obj.GetName()
	before, err := in.resourceVersion(ctx, it.gvr, ns, name)
	if err != nil {
		return 0, in.applyErr(it, err)
	}
	got, err := in.resource(it.gvr, ns).Apply(ctx, name, it.obj, metav1.ApplyOptions{FieldManager: argocd.FieldManager, Force: true})
	if err != nil {
		return 0, in.applyErr(it, err)
	}
	o := outcome(before, got.GetResourceVersion())
	in.logger.Debug("argocd install: applied", "object", it.String(), "outcome", o.String())
	return o, nil
}

func (in *Installer) applyErr(it item, err error) error {
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("%w: apply %s: %v", ErrForbidden, it, err)
	}
	return fmt.Errorf("argocd install: apply %s: %w", it, err)
}

// applyCRDs applies the CRDs and waits until all are Established.
func (in *Installer) applyCRDs(ctx context.Context, p *plan, res *Result, progress func(Phase, int, int)) error {
	total := 2 * len(p.crds) // applied, then Established
	for i, it := range p.crds {
		o, err := in.applyOne(ctx, it)
		if err != nil {
			return err
		}
		res.count(it.obj.GetKind(), o)
		progress(PhaseCRDs, i+1, total)
	}
	ctx, cancel := context.WithTimeout(ctx, crdTimeout)
	defer cancel()
	poll := min(in.opts.Poll, 100*time.Millisecond)
	for i, it := range p.crds {
		for {
			u, err := in.dyn.Resource(crdGVR).Get(ctx, it.obj.GetName(), metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("argocd install: CRD %s: %w", it.obj.GetName(), err)
			}
			ok, msg := crdEstablished(u)
			if ok {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("argocd install: CRD %s not Established after %s (%s): %w", it.obj.GetName(), crdTimeout, msg, ctx.Err())
			case <-time.After(poll):
			}
		}
		progress(PhaseCRDs, len(p.crds)+i+1, total)
	}
	res.CRDs = len(p.crds)
	in.mapper.Reset() // their kinds are served now
	in.logger.Info("argocd install: CRDs established", "crds", len(p.crds))
	return nil
}

// crdEstablished reads the Established condition, with the reason when
// it is not (NamesAccepted's message tells a name conflict).
func crdEstablished(u *unstructured.Unstructured) (bool, string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	msg := "no conditions yet"
	for _, c := range conds {
		m, _ := c.(map[string]any)
		switch {
		case m["type"] == "Established" && m["status"] == "True":
			return true, ""
		case m["status"] != "True" && m["message"] != nil:
			msg = fmt.Sprintf("%v: %v", m["type"], m["message"])
		}
	}
	return false, msg
}

// applyObjects applies the namespace, then the other objects in order.
func (in *Installer) applyObjects(ctx context.Context, p *plan, res *Result, progress func(Phase, int, int)) error {
	all := append([]item{p.namespace}, p.objects...)
	for i, it := range all {
		o, err := in.applyOne(ctx, it)
		if err != nil {
			return err
		}
		res.count(it.obj.GetKind(), o)
		progress(PhaseObjects, i+1, len(all))
	}
	in.logger.Info("argocd install: objects applied", "objects", len(all), "created", res.Created,
		"changed", res.Changed, "unchanged", res.Unchanged)
	return nil
}

// applyApplication applies the sidecar's AppProject and the fabric's
// repository Secret (when the request has them) and Application with the
// Kubernetes driver, as the syncer does after every push.
func (in *Installer) applyApplication(ctx context.Context, req Request, res *Result, progress func(Phase, int, int)) error {
	a := *req.App
	if a.Namespace != in.opts.Namespace {
		in.logger.Warn("argocd install: the Application is outside Argo CD's namespace; Argo CD ignores it unless "+
			"application.namespaces in argocd-cmd-params-cm names its namespace", "application", a.Namespace+"/"+a.Name,
			"argocd_namespace", in.opts.Namespace)
	}
	k := argocd.NewKube(in.dyn)
	type step struct {
		kind, name string
		gvr        schema.GroupVersionResource
		apply      func() error
	}
	steps := []step{{"Application", a.Name, argocd.ApplicationGVR, func() error { return k.EnsureApplication(ctx, a) }}}
	if req.Repo.URL != "" {
		steps = append([]step{{"Secret", argocd.RepositorySecretName(req.Repo.URL), argocd.SecretGVR,
			func() error { return k.EnsureRepository(ctx, a.Namespace, req.Repo) }}}, steps...)
	}
	if p := req.Project; p != nil && p.Namespace == a.Namespace {
		steps = append([]step{{"AppProject", p.Name, argocd.ProjectGVR, func() error { return k.EnsureProject(ctx, *p) }}}, steps...)
	}
	for i, s := range steps {
		before, err := in.resourceVersion(ctx, s.gvr, a.Namespace, s.name)
		if err == nil {
			err = s.apply()
		}
		var after string
		if err == nil {
			after, err = in.resourceVersion(ctx, s.gvr, a.Namespace, s.name)
		}
		if err != nil {
			return fmt.Errorf("argocd install: %s %s/%s: %w", s.kind, a.Namespace, s.name, err)
		}
		res.count(s.kind, outcome(before, after))
		progress(PhaseApplication, i+1, len(steps))
	}
	in.logger.Info("argocd install: application applied", "application", a.Namespace+"/"+a.Name, "repository_secret", req.Repo.URL != "")
	return nil
}
