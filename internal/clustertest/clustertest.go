// Package clustertest starts a private, real Kubernetes API server (etcd and
// kube-apiserver, built from source by test/cluster/build.sh) on 127.0.0.1
// for tests and stops it after.
package clustertest

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// Cluster is a running etcd and kube-apiserver.
type Cluster struct {
	// Config reaches the API server as an admin (group system:masters).
	Config *rest.Config
}

// Dynamic returns a dynamic client for the cluster.
func (c *Cluster) Dynamic() (dynamic.Interface, error) {
	return dynamic.NewForConfig(c.Config)
}

// namespaces is the core Namespace resource.
var namespaces = corev1.SchemeGroupVersion.WithResource("namespaces")

var _ schema.GroupVersionResource = namespaces
