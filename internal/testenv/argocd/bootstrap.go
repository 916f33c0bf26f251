package argocdenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	clusterenv "github.com/githedgehog/hnp-sidecar/internal/testenv/cluster"
)

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
		return fmt.Errorf("argocdenv: create namespace %s: %w", Namespace, err)
	}
	a, err := clusterenv.NewApplier(opts.Config)
	if err != nil {
		return err
	}
	a.Namespace = Namespace
	for _, f := range argoCRDs {
		b, err := os.ReadFile(filepath.Join(paths.Module, "manifests", "crds", f))
		if err != nil {
			return fmt.Errorf("argocdenv: %w", err)
		}
		if err := a.Apply(ctx, b); err != nil {
			return err
		}
	}
	for _, m := range opts.Manifests {
		if err := a.Apply(ctx, m); err != nil {
			return err
		}
	}

	install, err := os.ReadFile(filepath.Join(paths.Module, "manifests", "install.yaml"))
	if err != nil {
		return fmt.Errorf("argocdenv: %w", err)
	}
	// Only its ConfigMaps and Secrets: decoding the CRDs in it takes longer.
	var docs [][]byte
	for _, d := range bytes.Split(install, []byte("\n---\n")) {
		if bytes.Contains(d, []byte("\nkind: ConfigMap\n")) || bytes.Contains(d, []byte("\nkind: Secret\n")) {
			docs = append(docs, d)
		}
	}
	objs, err := clusterenv.Decode(bytes.Join(docs, []byte("\n---\n")))
	if err != nil {
		return fmt.Errorf("argocdenv: install.yaml: %w", err)
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
		if _, err := a.ApplyObject(ctx, o, false); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return errors.New("argocdenv: install.yaml has no ConfigMap or Secret")
	}

	config, err := clusterConfig(opts.Config)
	if err != nil {
		return fmt.Errorf("argocdenv: cluster config: %w", err)
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
			return fmt.Errorf("argocdenv: create the cluster Secret: %w", err)
		}
		if _, err := cs.CoreV1().Secrets(Namespace).Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("argocdenv: update the cluster Secret: %w", err)
		}
	}
	return nil
}
