package argocd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

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

// FieldManager names the sidecar's writes (managedFields).
const FieldManager = "hnp-sidecar"

// Kube drives Argo CD through the Kubernetes API: the Application custom
// resource and a repository Secret, with client-go's dynamic client
// (Argo CD's own Go module is far too heavy to import).
type Kube struct {
	dyn dynamic.Interface
}

// NewKube builds a Kubernetes driver.
func NewKube(dyn dynamic.Interface) *Kube { return &Kube{dyn: dyn} }

// EnsureRepository creates the repository Secret, or updates it when it
// is the sidecar's (labelled so); a Secret of that name that is not is
// left alone: ErrForeignRepository.
func (k *Kube) EnsureRepository(ctx context.Context, ns string, r Repository) error {
	data := map[string]any{"type": "git", "url": r.URL}
	for key, v := range map[string]string{"username": r.Username, "password": r.Password, "sshPrivateKey": r.SSHPrivateKey} {
		if v != "" {
			data[key] = v
		}
	}
	name := RepositorySecretName(r.URL)
	labels := map[string]any{"argocd.argoproj.io/secret-type": "repository", LabelManagedBy: ManagedBy}
	err := k.ensure(ctx, kubeObject{gvr: SecretGVR, ns: ns, name: name,
		desired: map[string]any{"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": name, "namespace": ns, "labels": labels}, "stringData": data},
		owned: func(l map[string]string) error {
			if ours(l) {
				return nil
			}
			return fmt.Errorf("%w: Secret %s/%s has no label %s=%s; it is left untouched", ErrForeignRepository, ns, name, LabelManagedBy, ManagedBy)
		},
		same: func(cur map[string]any) bool { return sameLabels(cur, labels) && sameSecretData(cur, data) },
		change: func(cur map[string]any) {
			setLabels(cur, labels)
			delete(cur, "data")
			cur["stringData"] = data
		},
	})
	if err != nil {
		return fmt.Errorf("argocd: repository secret %s/%s for %s: %w", ns, name, redact(r.URL), err)
	}
	return nil
}

// sameSecretData reports whether a Secret's data (base64, as read) is
// want, key for key.
func sameSecretData(cur map[string]any, want map[string]any) bool {
	have, _ := cur["data"].(map[string]any)
	if len(have) != len(want) {
		return false
	}
	for key, v := range want {
		enc, _ := have[key].(string)
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || string(raw) != v {
			return false
		}
	}
	return true
}

// EnsureProject creates the AppProject, or updates it when it is the
// sidecar's; ErrForeignProject otherwise.
func (k *Kube) EnsureProject(ctx context.Context, p Project) error {
	labels := map[string]any{LabelManagedBy: ManagedBy}
	spec := p.spec()
	err := k.ensure(ctx, kubeObject{gvr: ProjectGVR, ns: p.Namespace, name: p.Name, desired: p.Object(),
		owned: func(l map[string]string) error { return projectOwned(p.Namespace, p.Name, l) },
		same:  func(cur map[string]any) bool { return sameLabels(cur, labels) && sameFields(cur, "spec", spec) },
		change: func(cur map[string]any) {
			setLabels(cur, labels)
			s, _ := cur["spec"].(map[string]any)
			if s == nil {
				s = map[string]any{}
			}
			for key, v := range spec {
				s[key] = v
			}
			cur["spec"] = s
		},
	})
	if err != nil {
		return kubeErr("project", p.Namespace, p.Name, err)
	}
	return nil
}

// EnsureApplication creates the Application, or updates it when it is
// a.FabricID's (labelled so); any other is left alone:
// ErrForeignApplication.
func (k *Kube) EnsureApplication(ctx context.Context, a App) error {
	obj := a.Object()
	labels, _ := get(obj, "metadata", "labels").(map[string]any)
	spec, _ := obj["spec"].(map[string]any)
	err := k.ensure(ctx, kubeObject{gvr: ApplicationGVR, ns: a.Namespace, name: a.Name, desired: obj,
		owned: func(l map[string]string) error { return ownedBy(a.Namespace, a.Name, l, a.FabricID) },
		same: func(cur map[string]any) bool {
			return sameLabels(cur, labels) && reflect.DeepEqual(cur["spec"], jsonValue(spec))
		},
		change: func(cur map[string]any) {
			setLabels(cur, labels)
			cur["spec"] = spec
		},
	})
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
