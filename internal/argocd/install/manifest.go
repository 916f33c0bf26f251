package install

import (
	"cmp"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	crdGK       = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	crdGVR      = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	namespaceGV = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

// applicationCRD is the CRD every Argo CD install manifest has.
const applicationCRD = "applications.argoproj.io"

// item is one object to apply and the resource that serves it.
type item struct {
	obj        *unstructured.Unstructured
	gvr        schema.GroupVersionResource
	namespaced bool
}

// String names the object as "Kind namespace/name" or "Kind name".
func (it item) String() string {
	if it.namespaced {
		return it.obj.GetKind() + " " + it.obj.GetNamespace() + "/" + it.obj.GetName()
	}
	return it.obj.GetKind() + " " + it.obj.GetName()
}

// plan is a manifest made ready to apply: the namespace, the CRDs, then
// the other objects in kindOrder.
type plan struct {
	namespace item
	crds      []item
	objects   []item
}

// workloads are the plan's Deployments and StatefulSets.
func (p *plan) workloads() []item {
	var out []item
	for _, it := range p.objects {
		if it.gvr.Group == "apps" && (it.gvr.Resource == "deployments" || it.gvr.Resource == "statefulsets") {
			out = append(out, it)
		}
	}
	return out
}

// scopeFunc says which resource serves a kind and whether it is namespaced.
type scopeFunc func(gvk schema.GroupVersionKind) (gvr schema.GroupVersionResource, namespaced bool, err error)

// kindOrder is the order objects are applied in after the CRDs (Helm's,
// shortened): what others refer to comes first, workloads last.
var kindOrder = []string{"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget",
	"ServiceAccount", "Secret", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
	"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "DaemonSet", "Pod",
	"ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass",
	"Ingress", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}

func kindRank(kind string) int {
	if i := slices.Index(kindOrder, kind); i >= 0 {
		return i
	}
	return len(kindOrder)
}

// buildPlan checks a decoded manifest and readies it for namespace ns:
// every namespaced object gets ns, cluster-scoped ones none, and
// ServiceAccount subjects of role bindings that name the manifest's own
// namespace (argocd) name ns. Kinds the manifest's CRDs define are known
// without asking scope. The objects are copied, not changed.
func buildPlan(objs []*unstructured.Unstructured, ns string, scope scopeFunc) (*plan, error) {
	p := &plan{}
	defined := map[schema.GroupKind]crdNames{}
	for i, o := range objs {
		if o.GetAPIVersion() == "" || o.GetKind() == "" || o.GetName() == "" {
			return nil, fmt.Errorf("%w: object %d has no apiVersion, kind or metadata.name", ErrBadManifest, i+1)
		}
		if o.GroupVersionKind().GroupKind() == crdGK {
			n, err := crdNamesOf(o)
			if err != nil {
				return nil, err
			}
			defined[n.gk] = n
			o = o.DeepCopy()
			o.SetNamespace("")
			p.crds = append(p.crds, item{obj: o, gvr: crdGVR})
		}
	}
	if len(p.crds) == 0 {
		return nil, fmt.Errorf("%w: no CustomResourceDefinition in it: not an Argo CD install manifest", ErrBadManifest)
	}
	if !slices.ContainsFunc(p.crds, func(it item) bool { return it.obj.GetName() == applicationCRD }) {
		return nil, fmt.Errorf("%w: no CustomResourceDefinition %s: not an Argo CD install manifest", ErrBadManifest, applicationCRD)
	}
	seen := map[string]bool{}
	for _, it := range p.crds {
		seen[it.String()] = true
	}
	// The label is also what makes the apply own a field: applying a bare
	// name records no manager, and the next apply would then change the
	// object's managedFields (a change on every second run).
	p.namespace = item{obj: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns,
			"labels": map[string]any{"app.kubernetes.io/part-of": "argocd"}}}}, gvr: namespaceGV}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if gvk.GroupKind() == crdGK {
			continue
		}
		it := item{obj: o.DeepCopy()}
		if n, ok := defined[gvk.GroupKind()]; ok {
			it.gvr, it.namespaced = gvk.GroupVersion().WithResource(n.plural), n.namespaced
		} else {
			var err error
			if it.gvr, it.namespaced, err = scope(gvk); err != nil {
				if meta.IsNoMatchError(err) {
					return nil, fmt.Errorf("%w: %s %s: the API server does not serve %s and no CRD in the manifest defines it",
						ErrBadManifest, gvk.Kind, o.GetName(), gvk.GroupVersion().WithKind(gvk.Kind))
				}
				return nil, fmt.Errorf("argocd install: %s %s: %w", gvk.Kind, o.GetName(), err)
			}
		}
		if it.namespaced {
			it.obj.SetNamespace(ns)
		} else {
			it.obj.SetNamespace("")
		}
		if gvk.Group == "rbac.authorization.k8s.io" && (gvk.Kind == "ClusterRoleBinding" || gvk.Kind == "RoleBinding") {
			retargetSubjects(it.obj, ns)
		}
		if seen[it.String()] {
			return nil, fmt.Errorf("%w: %s is in it twice", ErrBadManifest, it)
		}
		seen[it.String()] = true
		if gvk.Group == "" && gvk.Kind == "Namespace" && o.GetName() == ns {
			p.namespace = it // the manifest's own, with its labels
			continue
		}
		p.objects = append(p.objects, it)
	}
	slices.SortStableFunc(p.objects, func(a, b item) int { return cmp.Compare(kindRank(a.obj.GetKind()), kindRank(b.obj.GetKind())) })
	return p, nil
}

// retargetSubjects points ServiceAccount subjects in the manifest's own
// namespace (DefaultNamespace) at ns.
func retargetSubjects(o *unstructured.Unstructured, ns string) {
	subjects, ok, _ := unstructured.NestedSlice(o.Object, "subjects")
	if !ok || ns == DefaultNamespace {
		return
	}
	for _, s := range subjects {
		if m, ok := s.(map[string]any); ok && m["kind"] == "ServiceAccount" && m["namespace"] == DefaultNamespace {
			m["namespace"] = ns
		}
	}
	_ = unstructured.SetNestedSlice(o.Object, subjects, "subjects")
}

type crdNames struct {
	gk         schema.GroupKind
	plural     string
	namespaced bool
}

func crdNamesOf(o *unstructured.Unstructured) (crdNames, error) {
	group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(o.Object, "spec", "names", "plural")
	kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
	scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
	if group == "" || plural == "" || kind == "" || (scope != "Namespaced" && scope != "Cluster") {
		return crdNames{}, fmt.Errorf("%w: CustomResourceDefinition %s has no spec.group, spec.names.plural, spec.names.kind or spec.scope",
			ErrBadManifest, o.GetName())
	}
	return crdNames{gk: schema.GroupKind{Group: group, Kind: kind}, plural: plural, namespaced: scope == "Namespaced"}, nil
}

// plan readies the manifest's objects for the cluster (see buildPlan).
func (in *Installer) plan(objs []*unstructured.Unstructured, source string) (*plan, error) {
	p, err := buildPlan(objs, in.opts.Namespace, in.scope)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, source)
	}
	in.logger.Debug("argocd install: plan", "crds", len(p.crds), "objects", len(p.objects), "workloads", len(p.workloads()),
		"namespace", in.opts.Namespace)
	return p, nil
}

// scope asks the API server's discovery which resource serves gvk.
func (in *Installer) scope(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
	m, err := in.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return schema.GroupVersionResource{}, false, err
	}
	return m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}
