// Package clusterenv starts a private, real Kubernetes API server for tests
// and stops it after: etcd and kube-apiserver, built from source at pinned
// versions by test/cluster/build.sh (cached; ~5 minutes cold), run as two
// local processes on 127.0.0.1 with their data in a temporary directory. No
// controller-manager, scheduler or kubelet: objects are stored and validated
// (CRD schemas, CEL rules, admission), nothing runs.
//
// Start also installs the Hedgehog CRDs from ../shared/upstream/hedgehog-crds
// (next to the repository) by server-side apply and waits until they are
// Established; Apply installs any other manifests (CRDs first).
package clusterenv

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"
)

// Cluster is a running etcd and kube-apiserver.
type Cluster struct {
	// URL is the API server's base URL: https://127.0.0.1:<port>.
	URL string
	// Token is a bearer token of the admin user (group system:masters).
	Token string
	// CA is the PEM certificate the serving certificate is signed by.
	CA []byte
	// CAFile holds CA.
	CAFile string
	// Config reaches the API server as the admin, verifying TLS with CA.
	Config *rest.Config
	// EtcdURL is etcd's client URL (plain HTTP on 127.0.0.1).
	EtcdURL string
	// Dir holds the processes' logs (etcd.log, kube-apiserver.log), etcd's
	// data, the certificates and keys.
	Dir string
	// Started is how long the two processes took to be ready (without the
	// build and without installing CRDs).
	Started time.Duration
	// Version is the API server's /version gitVersion.
	Version string

	procs   []*proc.Proc
	clients clients
}

// Options says what to start.
type Options struct {
	// NoHedgehogCRDs leaves the Hedgehog CRDs out.
	NoHedgehogCRDs bool
	// Manifests are applied server-side once the API server is ready (after
	// the Hedgehog CRDs): multi-document YAML or JSON, CRDs and Namespaces
	// first.
	Manifests [][]byte
	// LogLevel is kube-apiserver's -v; 0 when empty.
	LogLevel int
}

// Start runs an API server with the Hedgehog CRDs for the duration of t. It
// is skipped under -short, and when the CRDs are not found.
func Start(t testing.TB) *Cluster {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real kube-apiserver and etcd (test/cluster/build.sh); skipped under -short")
	}
	var crds []string
	if !opts.NoHedgehogCRDs {
		dir := HedgehogCRDDir()
		var err error
		if crds, err = filepath.Glob(filepath.Join(dir, "*.yaml")); err != nil || len(crds) == 0 {
			t.Skipf("clusterenv: no Hedgehog CRDs at %s (*.yaml): they are read at run time from ../shared/upstream/hedgehog-crds next to the repository", dir)
		}
	}
	bins, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Run(bins, t.TempDir(), opts.LogLevel)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	etcdRSS, apiRSS := c.RSS()
	t.Logf("clusterenv: kube-apiserver %s at %s ready in %s; RSS etcd %d MB, kube-apiserver %d MB",
		c.Version, c.URL, c.Started.Round(time.Millisecond), etcdRSS>>20, apiRSS>>20)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if len(crds) > 0 {
		start := time.Now()
		if err := c.ApplyFiles(ctx, crds...); err != nil {
			t.Fatalf("clusterenv: installing the Hedgehog CRDs: %v", err)
		}
		t.Logf("clusterenv: %d Hedgehog CRDs established in %s", len(crds), time.Since(start).Round(time.Millisecond))
	}
	if len(opts.Manifests) > 0 {
		if err := c.Apply(ctx, opts.Manifests...); err != nil {
			t.Fatalf("clusterenv: applying manifests: %v", err)
		}
	}
	return c
}
