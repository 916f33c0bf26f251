// Package argocdenv runs a real Argo CD (built from its Go module by
// test/cluster/build-argocd.sh) for tests, as three local processes —
// argocd-repo-server, argocd-application-controller and argocd-server —
// against a real Kubernetes API server (internal/testenv/cluster) and Redis
// (internal/testenv/redis), and stops them after.
//
// Argo CD's application-controller opens its metrics port on every interface
// (it has no address flag), so Start refuses to run outside a private network
// namespace whose only interface is the loopback: run the compiled test binary
// under test/cluster/in-netns.sh, after building and downloading everything:
//
//	test/cluster/build.sh && test/cluster/build-argocd.sh
//	go test -c -o /tmp/argocdenv.test ./internal/testenv/argocd
//	test/cluster/in-netns.sh /tmp/argocdenv.test -test.v
//
// Outside such a namespace, under -short, or when Argo CD is not built, tests
// that call Start are skipped; with HNP_ARGOCD_REQUIRED=1 (CI) the last two
// fail instead.
package argocdenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/githedgehog/hnp-sidecar/internal/testenv/proc"
)

const (
	// Version is the Argo CD release test/cluster/build-argocd.sh builds.
	Version = "v3.6.1"
	// Namespace is where Argo CD keeps its objects and Applications.
	Namespace = "argocd"
	// InCluster is the destination server Argo CD maps to the API server
	// (ARGOCD_FAKE_IN_CLUSTER with KUBECONFIG), as inside a pod: what
	// DESIGN.md §8's Applications name.
	InCluster = "https://kubernetes.default.svc"
)

// Options says what Argo CD runs against.
type Options struct {
	// Config reaches the API server as an admin: its Host, and a bearer
	// token or a client certificate (data or files). Argo CD gets the same
	// credentials, in a kubeconfig and in a cluster Secret.
	Config *rest.Config
	// RedisAddr is host:port of a Redis (internal/testenv/redis) Argo CD may use.
	RedisAddr string
	// Manifests are applied server-side before Argo CD starts, after its own
	// CRDs: e.g. the Hedgehog CRDs. Multi-document YAML or JSON.
	Manifests [][]byte
	// ConfigMapData is merged into argocd-cm (e.g. timeout.reconciliation).
	ConfigMapData map[string]string
	// LogLevel of the three processes; "info" when empty.
	LogLevel string
}

// Env is a running Argo CD.
type Env struct {
	// URL is argocd-server's base URL (plain HTTP on 127.0.0.1).
	URL string
	// Token is a bearer token of the admin user for the REST API.
	Token string
	// AdminPassword is the admin user's password (argocd-initial-admin-secret).
	AdminPassword string
	// Namespace of Argo CD's objects and Applications.
	Namespace string
	// ClusterServer is the API server's URL, registered as a cluster
	// (a Secret); InCluster reaches the same API server.
	ClusterServer string
	// RepoServer is argocd-repo-server's gRPC address (plaintext).
	RepoServer string
	// Dir holds the processes' logs (<name>.log), kubeconfig and TMPDIR.
	Dir string
	// Started is how long Run took; Phases says how long each phase took
	// (bootstrap, each process ready, login).
	Started time.Duration
	Phases  string

	procs []*proc.Proc
}

// CheckNetns returns an error unless the process is in a network namespace
// whose only interface is the loopback, so that nothing started can listen
// on a host interface.
func CheckNetns() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("argocdenv: list network interfaces: %w", err)
	}
	var other []string
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			other = append(other, i.Name)
		}
	}
	if len(other) > 0 {
		return fmt.Errorf("argocdenv: not in a private network namespace (interfaces %s besides lo); "+
			"Argo CD's controller would listen on them: run the test binary under test/cluster/in-netns.sh", strings.Join(other, ", "))
	}
	return nil
}

// Skip skips t under -short or outside a private network namespace, and
// when Argo CD is not built (with HNP_ARGOCD_REQUIRED=1 the last two fail t).
// It returns what Find found.
func Skip(t testing.TB) Paths {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real Argo CD, API server and Redis; skipped under -short")
	}
	skip := t.Skip
	if os.Getenv("HNP_ARGOCD_REQUIRED") == "1" {
		skip = t.Fatal
	}
	if err := CheckNetns(); err != nil {
		skip(err.Error())
	}
	p, err := Find()
	if err != nil {
		skip(err.Error())
	}
	return p
}

// Start runs Argo CD for the duration of t (see Skip for when it is
// skipped).
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	paths := Skip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := Run(ctx, paths, t.TempDir(), opts)
	if e != nil {
		t.Cleanup(e.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return e
}
