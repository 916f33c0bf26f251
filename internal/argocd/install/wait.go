package install

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// deploymentReady tells whether a Deployment's rollout is complete, as
// kubectl rollout status does, and if not why.
func deploymentReady(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return false, "progress deadline exceeded: " + c.Message
		}
	}
	switch {
	case s.ObservedGeneration < d.Generation:
		return false, fmt.Sprintf("generation %d not yet observed by the controller", d.Generation)
	case s.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas updated", s.UpdatedReplicas, want)
	case s.Replicas > s.UpdatedReplicas:
		return false, fmt.Sprintf("%d old replicas pending termination", s.Replicas-s.UpdatedReplicas)
	case s.AvailableReplicas < s.UpdatedReplicas:
		return false, fmt.Sprintf("%d of %d updated replicas available", s.AvailableReplicas, s.UpdatedReplicas)
	}
	return true, ""
}

// statefulSetReady tells whether a StatefulSet's rollout is complete and
// its replicas ready, and if not why.
func statefulSetReady(st *appsv1.StatefulSet) (bool, string) {
	want := int32(1)
	if st.Spec.Replicas != nil {
		want = *st.Spec.Replicas
	}
	s := st.Status
	partitioned := st.Spec.UpdateStrategy.RollingUpdate != nil && st.Spec.UpdateStrategy.RollingUpdate.Partition != nil &&
		*st.Spec.UpdateStrategy.RollingUpdate.Partition > 0
	rolling := st.Spec.UpdateStrategy.Type == "" || st.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType
	switch {
	case s.ObservedGeneration < st.Generation:
		return false, fmt.Sprintf("generation %d not yet observed by the controller", st.Generation)
	case s.ReadyReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas ready", s.ReadyReplicas, want)
	case rolling && !partitioned && s.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas updated", s.UpdatedReplicas, want)
	case rolling && !partitioned && s.UpdateRevision != "" && s.CurrentRevision != s.UpdateRevision:
		return false, fmt.Sprintf("revision %s not yet rolled out", s.UpdateRevision)
	}
	return true, ""
}

// waitWorkloads polls the Deployments and StatefulSets until all are
// ready, reporting ready/total; after wait, ErrNotReady names the rest.
func (in *Installer) waitWorkloads(ctx context.Context, ws []item, wait time.Duration, res *Result, progress func(Phase, int, int)) error {
	res.Workloads = len(ws)
	if len(ws) == 0 {
		return nil
	}
	deadline := time.Now().Add(wait)
	lastReady := -1
	for {
		notReady, err := in.unready(ctx, ws)
		if err != nil {
			return err
		}
		ready := len(ws) - len(notReady)
		if ready != lastReady {
			progress(PhaseWorkloads, ready, len(ws))
			in.logger.Info("argocd install: workloads", "ready", ready, "total", len(ws))
			lastReady = ready
		}
		if len(notReady) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %s: %d of %d: %s", ErrNotReady, wait, len(notReady), len(ws), strings.Join(notReady, "; "))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("argocd install: waiting for workloads (%s): %w", strings.Join(notReady, "; "), ctx.Err())
		case <-time.After(min(in.opts.Poll, time.Until(deadline)+time.Millisecond)):
		}
	}
}

// unready lists the workloads that are not ready, each with its reason.
func (in *Installer) unready(ctx context.Context, ws []item) ([]string, error) {
	ns := in.opts.Namespace
	deps, err := in.cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("argocd install: list deployments in %s: %w", ns, err)
	}
	sts, err := in.cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("argocd install: list statefulsets in %s: %w", ns, err)
	}
	status := map[string]func() (bool, string){}
	for i := range deps.Items {
		d := &deps.Items[i]
		status["Deployment "+ns+"/"+d.Name] = func() (bool, string) { return deploymentReady(d) }
	}
	for i := range sts.Items {
		s := &sts.Items[i]
		status["StatefulSet "+ns+"/"+s.Name] = func() (bool, string) { return statefulSetReady(s) }
	}
	var out []string
	for _, w := range ws {
		fn, ok := status[w.String()]
		if !ok {
			out = append(out, w.String()+": not found")
			continue
		}
		if ok, why := fn(); !ok {
			out = append(out, w.String()+": "+why)
		}
	}
	return out, nil
}
