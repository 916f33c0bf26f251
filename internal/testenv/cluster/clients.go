package clusterenv

import (
	"context"
	"fmt"
	"os"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// clients are made on first use.
type clients struct {
	once    sync.Once
	err     error
	applier *Applier
}

// init makes the clients, once.
func (c *Cluster) init() error {
	c.clients.once.Do(func() { c.clients.applier, c.clients.err = NewApplier(c.Config) })
	return c.clients.err
}

// Dynamic is a dynamic client for the cluster, as the admin.
func (c *Cluster) Dynamic() (dynamic.Interface, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	return c.clients.applier.dyn, nil
}

// ApplyFiles applies the manifests in files (see Apply).
func (c *Cluster) ApplyFiles(ctx context.Context, files ...string) error {
	var docs [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("clusterenv: %w", err)
		}
		docs = append(docs, b)
	}
	return c.Apply(ctx, docs...)
}

// Apply is Applier.Apply on the cluster; objects without a namespace that
// need one go to "default".
func (c *Cluster) Apply(ctx context.Context, manifests ...[]byte) error {
	if err := c.init(); err != nil {
		return err
	}
	return c.clients.applier.Apply(ctx, manifests...)
}

// ApplyObject is Applier.ApplyObject on the cluster.
func (c *Cluster) ApplyObject(ctx context.Context, o *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	return c.clients.applier.ApplyObject(ctx, o, dryRun)
}

// WaitEstablished is Applier.WaitEstablished on the cluster.
func (c *Cluster) WaitEstablished(ctx context.Context, names ...string) error {
	if err := c.init(); err != nil {
		return err
	}
	return c.clients.applier.WaitEstablished(ctx, names...)
}
