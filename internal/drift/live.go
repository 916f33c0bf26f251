package drift

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// gvr is a kind's resource.
func gvr(k kind.Kind) schema.GroupVersionResource {
	gv, _ := schema.ParseGroupVersion(k.APIVersion)
	return gv.WithResource(k.Plural)
}

// field is a state-store field: kind/namespace/name.
func field(kindName, ns, name string) string {
	if ns == "" {
		ns = "default"
	}
	return kindName + "/" + ns + "/" + name
}

// desiredObjects parses the CR files from Git by field. Files that are not
// one of the kinds are skipped.
func desiredObjects(files map[string][]byte) (map[string]map[string]any, error) {
	out := make(map[string]map[string]any, len(files))
	for p, b := range files {
		if !strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml") {
			continue
		}
		var o map[string]any
		if err := yaml.Unmarshal(b, &o); err != nil {
			return nil, fmt.Errorf("kube: %s: %w", p, err)
		}
		u := unstructured.Unstructured{Object: o}
		if _, ok := kind.Named(u.GetKind()); !ok || u.GetName() == "" {
			continue
		}
		out[field(u.GetKind(), u.GetNamespace(), u.GetName())] = o
	}
	return out, nil
}

// liveObjects lists the kinds in the cluster by field. A kind whose CRD is
// not installed has no objects.
func liveObjects(ctx context.Context, d dynamic.Interface) (map[string]*unstructured.Unstructured, error) {
	out := map[string]*unstructured.Unstructured{}
	for _, k := range kind.CRs() {
		list, err := d.Resource(gvr(k)).Namespace(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("kube: list %s: %w", k.Plural, err)
		}
		for i := range list.Items {
			o := &list.Items[i]
			out[field(k.Name, o.GetNamespace(), o.GetName())] = o
		}
	}
	return out, nil
}

// specSchemas reads each kind's spec schema from its CRD, for defaulting;
// a CRD that cannot be read leaves its kind undefaulted.
func specSchemas(ctx context.Context, d dynamic.Interface) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, k := range kind.CRs() {
		g := gvr(k)
		crd, err := d.Resource(crdGVR).Get(ctx, g.Resource+"."+g.Group, metav1.GetOptions{})
		if err != nil {
			continue
		}
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			vm, _ := v.(map[string]any)
			if vm["name"] != g.Version {
				continue
			}
			if s, ok, _ := unstructured.NestedMap(vm, "schema", "openAPIV3Schema", "properties", "spec"); ok {
				out[k.Name] = s
			}
		}
	}
	return out
}
