package argocd

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// conflictRetries is how often an update that lost a race (the object
// changed between read and write: Argo CD writes an Application's status
// all the time) is tried again, each time read and checked afresh.
const conflictRetries = 5

// kubeObject is one object the Kubernetes driver keeps: created when
// absent, else checked by owned and, when it differs (same), updated by
// change, conditionally on the resourceVersion read. It never overwrites
// an object owned refuses, and never forces anything.
type kubeObject struct {
	gvr      schema.GroupVersionResource
	ns, name string
	desired  map[string]any
	owned    func(labels map[string]string) error
	// same reports whether the existing object already is as desired.
	same func(cur map[string]any) bool
	// change makes cur as desired (cur keeps what others own: status,
	// operation, annotations).
	change func(cur map[string]any)
}

// ensure creates o when absent, or updates it when it is owned and differs.
func (k *Kube) ensure(ctx context.Context, o kubeObject) error {
	res := k.dyn.Resource(o.gvr).Namespace(o.ns)
	for try := 0; ; try++ {
		cur, err := res.Get(ctx, o.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = res.Create(ctx, &unstructured.Unstructured{Object: o.desired}, metav1.CreateOptions{FieldManager: FieldManager})
			if apierrors.IsAlreadyExists(err) && try < conflictRetries {
				continue // created meanwhile: read it, and check whose it is
			}
			return err
		}
		if err != nil {
			return err
		}
		if err := o.owned(cur.GetLabels()); err != nil {
			return err
		}
		if o.same(cur.Object) {
			return nil
		}
		o.change(cur.Object)
		// cur carries the resourceVersion read: the update fails with a
		// conflict if the object changed since (even into a foreign one).
		_, err = res.Update(ctx, cur, metav1.UpdateOptions{FieldManager: FieldManager})
		if apierrors.IsConflict(err) && try < conflictRetries {
			continue
		}
		return err
	}
}

// jsonValue is v as encoding/json decodes it (numbers as float64 …), so
// it compares with what the API server answers.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

// sameFields reports whether every key of want has the same value in
// have[key] (keys only have, set by others, do not count).
func sameFields(have map[string]any, key string, want map[string]any) bool {
	h, _ := have[key].(map[string]any)
	w, _ := jsonValue(want).(map[string]any)
	for k, v := range w {
		if !reflect.DeepEqual(h[k], v) {
			return false
		}
	}
	return true
}

// setLabels sets labels on obj, keeping the others it has.
func setLabels(obj map[string]any, labels map[string]any) {
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		obj["metadata"] = md
	}
	l, _ := md["labels"].(map[string]any)
	if l == nil {
		l = map[string]any{}
	}
	for k, v := range labels {
		l[k] = v
	}
	md["labels"] = l
}

// sameLabels reports whether obj has every label of want.
func sameLabels(obj map[string]any, want map[string]any) bool {
	have := labelsOf(obj)
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func kubeErr(what, ns, name string, err error) error {
	return fmt.Errorf("argocd: %s %s/%s: %w", what, ns, name, err)
}
