package argocd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// ApplicationGVR is Argo CD's Application resource.
var ApplicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// SecretGVR is the resource of repository Secrets.
var SecretGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// FieldManager owns the fields the sidecar applies.
const FieldManager = "hnp-sidecar"

// Kube drives Argo CD through the Kubernetes API: the Application custom
// resource and a repository Secret, with client-go's dynamic client
// (Argo CD's own Go module is far too heavy to import).
type Kube struct {
	dyn dynamic.Interface
}

// NewKube builds a Kubernetes driver.
func NewKube(dyn dynamic.Interface) *Kube { return &Kube{dyn: dyn} }

// EnsureRepository applies the repository Secret (server-side apply).
func (k *Kube) EnsureRepository(ctx context.Context, ns string, r Repository) error {
	data := map[string]string{"type": "git", "url": r.URL}
	for key, v := range map[string]string{"username": r.Username, "password": r.Password, "sshPrivateKey": r.SSHPrivateKey} {
		if v != "" {
			data[key] = v
		}
	}
	name := RepositorySecretName(r.URL)
	body, err := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": name, "namespace": ns,
			"labels": map[string]string{"argocd.argoproj.io/secret-type": "repository", "app.kubernetes.io/managed-by": "hnp-sidecar"}},
		"stringData": data,
	})
	if err != nil {
		return err
	}
	force := true
	_, err = k.dyn.Resource(SecretGVR).Namespace(ns).Patch(ctx, name, types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		return fmt.Errorf("argocd: repository secret %s/%s for %s: %w", ns, name, redact(r.URL), err)
	}
	return nil
}

// EnsureApplication applies the Application (server-side apply).
func (k *Kube) EnsureApplication(ctx context.Context, a App) error {
	body, err := json.Marshal(a.Object())
	if err != nil {
		return err
	}
	force := true
	_, err = k.dyn.Resource(ApplicationGVR).Namespace(a.Namespace).Patch(ctx, a.Name, types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		return wrap("apply application", a.Namespace, a.Name, err)
	}
	return nil
}

// Refresh sets the refresh annotation; Argo CD removes it once refreshed.
func (k *Kube) Refresh(ctx context.Context, ns, name string) error {
	patch := []byte(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal"}}}`)
	_, err := k.dyn.Resource(ApplicationGVR).Namespace(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return wrap("refresh", ns, name, ErrNotFound)
	}
	if err != nil {
		return wrap("refresh", ns, name, err)
	}
	return nil
}

// Sync sets the Application's operation, only when none is set: the
// patch carries the resourceVersion read, so a concurrent writer makes it
// fail with a conflict, reported as ErrBusy.
func (k *Kube) Sync(ctx context.Context, ns, name, revision string, prune bool) error {
	res := k.dyn.Resource(ApplicationGVR).Namespace(ns)
	app, err := res.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return wrap("sync", ns, name, ErrNotFound)
	}
	if err != nil {
		return wrap("sync", ns, name, err)
	}
	if op, ok := app.Object["operation"].(map[string]any); ok && len(op) > 0 {
		return ErrBusy
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": app.GetResourceVersion()},
		"operation": map[string]any{
			"initiatedBy": map[string]any{"username": FieldManager},
			"sync":        map[string]any{"revision": revision, "prune": prune, "syncOptions": syncOptions()},
		},
	})
	if err != nil {
		return err
	}
	_, err = res.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsConflict(err) {
		return ErrBusy
	}
	if err != nil {
		return wrap("sync", ns, name, err)
	}
	return nil
}

// Status reads the Application.
func (k *Kube) Status(ctx context.Context, ns, name string) (Status, error) {
	app, err := k.dyn.Resource(ApplicationGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Status{}, wrap("get", ns, name, ErrNotFound)
	}
	if err != nil {
		return Status{}, wrap("get", ns, name, err)
	}
	return statusOf(app.Object), nil
}

// IsBusy reports whether err means Argo CD is busy with another operation.
func IsBusy(err error) bool { return errors.Is(err, ErrBusy) }
