package argocdtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// fieldManager owns what argocdtest applies.
const fieldManager = "argocdtest"

// argoCRDs are Argo CD's three CRDs in its module's manifests/crds.
var argoCRDs = []string{"application-crd.yaml", "appproject-crd.yaml", "applicationset-crd.yaml"}

// bootstrap creates what Argo CD's processes expect to find: the namespace,
// its CRDs and the caller's manifests, the ConfigMaps and Secrets of its
// install.yaml, and a cluster Secret for the API server.
func bootstrap(ctx context.Context, paths Paths, opts Options, server string) error {
	cs, err := kubernetes.NewForConfig(opts.Config)
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("argocdtest: create namespace %s: %w", Namespace, err)
	}
	a, err := NewApplier(opts.Config)
	if err != nil {
		return err
	}
	for _, f := range argoCRDs {
		b, err := os.ReadFile(filepath.Join(paths.Module, "manifests", "crds", f))
		if err != nil {
			return fmt.Errorf("argocdtest: %w", err)
		}
		if err := a.Apply(ctx, "", b); err != nil {
			return err
		}
	}
	for _, m := range opts.Manifests {
		if err := a.Apply(ctx, "", m); err != nil {
			return err
		}
	}

	install, err := os.ReadFile(filepath.Join(paths.Module, "manifests", "install.yaml"))
	if err != nil {
		return fmt.Errorf("argocdtest: %w", err)
	}
	// Only its ConfigMaps and Secrets: decoding the CRDs in it takes longer.
	var docs [][]byte
	for _, d := range bytes.Split(install, []byte("\n---\n")) {
		if bytes.Contains(d, []byte("\nkind: ConfigMap\n")) || bytes.Contains(d, []byte("\nkind: Secret\n")) {
			docs = append(docs, d)
		}
	}
	objs, err := Decode(bytes.Join(docs, []byte("\n---\n")))
	if err != nil {
		return fmt.Errorf("argocdtest: install.yaml: %w", err)
	}
	n := 0
	for _, o := range objs {
		if o.GetAPIVersion() != "v1" || (o.GetKind() != "ConfigMap" && o.GetKind() != "Secret") {
			continue
		}
		if o.GetKind() == "ConfigMap" && o.GetName() == "argocd-cm" && len(opts.ConfigMapData) > 0 {
			data, _, _ := unstructured.NestedStringMap(o.Object, "data")
			if data == nil {
				data = map[string]string{}
			}
			for k, v := range opts.ConfigMapData {
				data[k] = v
			}
			if err := unstructured.SetNestedStringMap(o.Object, data, "data"); err != nil {
				return err
			}
		}
		if err := a.ApplyObject(ctx, Namespace, o); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return errors.New("argocdtest: install.yaml has no ConfigMap or Secret")
	}

	config, err := clusterConfig(opts.Config)
	if err != nil {
		return fmt.Errorf("argocdtest: cluster config: %w", err)
	}
	secret := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-test", Namespace: Namespace,
			Labels: map[string]string{"argocd.argoproj.io/secret-type": "cluster"}},
		Type:       corev1.SecretTypeOpaque,
		StringData: map[string]string{"name": "test", "server": server, "config": string(config)},
	}
	if _, err := cs.CoreV1().Secrets(Namespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("argocdtest: create the cluster Secret: %w", err)
		}
		if _, err := cs.CoreV1().Secrets(Namespace).Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("argocdtest: update the cluster Secret: %w", err)
		}
	}
	return nil
}

// Applier applies manifests server-side, as kubectl apply --server-side
// --force-conflicts would, and waits for the CRDs it applies to be
// Established.
type Applier struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// NewApplier returns an Applier for the API server cfg reaches.
func NewApplier(cfg *rest.Config) (*Applier, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

// Decode splits multi-document YAML (or JSON) into objects, skipping empty
// documents and unwrapping lists.
func Decode(docs []byte) ([]*unstructured.Unstructured, error) {
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(docs), 1<<16)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.IsList() {
			l, err := u.ToList()
			if err != nil {
				return nil, err
			}
			for i := range l.Items {
				out = append(out, &l.Items[i])
			}
			continue
		}
		out = append(out, u)
	}
}

// Apply applies every object of docs; namespaced objects without a
// namespace go into namespace.
func (a *Applier) Apply(ctx context.Context, namespace string, docs []byte) error {
	objs, err := Decode(docs)
	if err != nil {
		return fmt.Errorf("argocdtest: decode manifests: %w", err)
	}
	for _, o := range objs {
		if err := a.ApplyObject(ctx, namespace, o); err != nil {
			return err
		}
	}
	return nil
}

// ApplyObject applies one object (see Apply).
func (a *Applier) ApplyObject(ctx context.Context, namespace string, o *unstructured.Unstructured) error {
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		a.mapper.Reset() // a CRD applied just before
		m, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return fmt.Errorf("argocdtest: %s %s: %w", gvk.Kind, o.GetName(), err)
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if o.GetNamespace() == "" {
			o.SetNamespace(namespace)
		}
		ri = a.dyn.Resource(m.Resource).Namespace(o.GetNamespace())
	}
	if _, err := ri.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
		return fmt.Errorf("argocdtest: apply %s %s: %w", gvk.Kind, o.GetName(), err)
	}
	if gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition" {
		return a.waitEstablished(ctx, ri, o.GetName())
	}
	return nil
}

func (a *Applier) waitEstablished(ctx context.Context, ri dynamic.ResourceInterface, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		u, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
					a.mapper.Reset()
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("argocdtest: CRD %s not Established: %w", name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
