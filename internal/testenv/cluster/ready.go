package clusterenv

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// MarkWorkloadsReady waits until namespace holds at least deployments
// Deployments and statefulSets StatefulSets (an Argo CD installation
// being applied) and sets their status as their controllers would: this
// API server has no controllers and no kubelet.
func (c *Cluster) MarkWorkloadsReady(ctx context.Context, namespace string, deployments, statefulSets int) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		deps, err := cs.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		sts, err := cs.AppsV1().StatefulSets(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(deps.Items) < deployments || len(sts.Items) < statefulSets {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		for _, d := range deps.Items {
			r := *d.Spec.Replicas
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: r, UpdatedReplicas: r, ReadyReplicas: r, AvailableReplicas: r}
			if _, err := cs.AppsV1().Deployments(namespace).UpdateStatus(ctx, &d, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
		for _, s := range sts.Items {
			r := *s.Spec.Replicas
			s.Status = appsv1.StatefulSetStatus{ObservedGeneration: s.Generation, Replicas: r, ReadyReplicas: r, UpdatedReplicas: r}
			if _, err := cs.AppsV1().StatefulSets(namespace).UpdateStatus(ctx, &s, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
		return nil
	}
	return ctx.Err()
}
