package clusterenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the server-side apply field manager of Apply.
const FieldManager = "hnp-clusterenv"

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Applier applies manifests server-side to any API server, as kubectl
// apply --server-side --force-conflicts would (Cluster's Apply methods use
// one; internal/testenv/argocd too).
type Applier struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	// Namespace is where namespaced objects without one go ("default").
	Namespace string
}

// NewApplier returns an Applier for the API server cfg reaches.
func NewApplier(cfg *rest.Config) (*Applier, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("clusterenv: discovery client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("clusterenv: dynamic client: %w", err)
	}
	return &Applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), Namespace: "default"}, nil
}

// Decode splits multi-document YAML or JSON into objects, dropping empty
// documents and unwrapping kind: List.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("clusterenv: decode: %w", err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.IsList() {
			l, err := u.ToList()
			if err != nil {
				return nil, fmt.Errorf("clusterenv: decode list: %w", err)
			}
			for i := range l.Items {
				out = append(out, &l.Items[i])
			}
			continue
		}
		out = append(out, u)
	}
}

// Apply applies every object of the manifests server-side (forcing
// conflicts, field manager FieldManager): Namespaces and CRDs first, then,
// once those CRDs are Established, the rest. Namespaced objects without a
// namespace go to a.Namespace.
func (a *Applier) Apply(ctx context.Context, manifests ...[]byte) error {
	var first, rest []*unstructured.Unstructured
	for _, m := range manifests {
		objs, err := Decode(m)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if o.GetAPIVersion() == "v1" && o.GetKind() == "Namespace" ||
				o.GetObjectKind().GroupVersionKind().GroupKind() == (schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}) {
				first = append(first, o)
			} else {
				rest = append(rest, o)
			}
		}
	}
	var crds []string
	for _, o := range first {
		if _, err := a.ApplyObject(ctx, o, false); err != nil {
			return err
		}
		if o.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, o.GetName())
		}
	}
	if len(crds) > 0 {
		if err := a.WaitEstablished(ctx, crds...); err != nil {
			return err
		}
	}
	for _, o := range rest {
		if _, err := a.ApplyObject(ctx, o, false); err != nil {
			return err
		}
	}
	return nil
}

// ApplyObject applies one object server-side (forcing conflicts), or only
// asks the server whether it would (dryRun: every admission, defaulting and
// validation step runs, nothing is stored), and returns what the server
// made of it.
func (a *Applier) ApplyObject(ctx context.Context, o *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil { // perhaps a CRD installed since discovery was cached
		a.mapper.Reset()
		m, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("clusterenv: %s %s: %w", gvk.Kind, o.GetName(), err)
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
	if m.Scope.Name() == "namespace" {
		ns := o.GetNamespace()
		if ns == "" {
			ns = a.Namespace
		}
		ri = a.dyn.Resource(m.Resource).Namespace(ns)
	}
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	got, err := ri.Apply(ctx, o.GetName(), o, opts)
	if err != nil {
		return nil, fmt.Errorf("clusterenv: apply %s %s: %w", gvk.Kind, o.GetName(), err)
	}
	return got, nil
}

// WaitEstablished waits until the named CRDs are Established, then makes
// their kinds known to Apply.
func (a *Applier) WaitEstablished(ctx context.Context, names ...string) error {
	for _, n := range names {
		for {
			u, err := a.dyn.Resource(crdResource).Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("clusterenv: CRD %s: %w", n, err)
			}
			if established(u) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("clusterenv: CRD %s not Established: %w", n, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	a.mapper.Reset()
	return nil
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
